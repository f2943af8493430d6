import assert from "node:assert/strict";
import { authorizedLine } from "../../../core/ssh/authorized_line.ts";
import { KeyRotation, shellQuote } from "../../../core/ssh/key_rotation.ts";
import { SshKeyStore } from "../../../core/ssh/key_store.ts";
import { keyBlob } from "../../../core/ssh/public_key.ts";
import { type Sshd, startSshd } from "../../harness/sshd.ts";
import { poolFixture, until } from "../../harness/pool.ts";

const has = (lines: string[], publicKey: string) =>
  lines.some((l) => l.includes(keyBlob(publicKey).toString("base64")));

Deno.test("rotation across five instances: one unreachable keeps the old key working, a second call completes it", async () => {
  const f = await poolFixture({ count: 5, limits: { maxAttempts: 1000, failuresToBlock: 1000 } });
  const sshds: Sshd[] = [];
  try {
    const oldKey = f.keys.publicKey;
    for (let id = 1; id <= 5; id++) {
      const sshd = await startSshd({ authorizedKeys: [authorizedLine(oldKey, f.pool.targets)] });
      sshds.push(sshd);
      f.endpoints.set(id, {
        host: sshd.host,
        port: sshd.port,
        username: sshd.user,
        authorizedKeysFile: `${sshd.dir}/authorized_keys`,
      });
      f.pool.start(id);
    }
    await until(() => [1, 2, 3, 4, 5].every((id) => f.pool.status(id).state === "connected"), 10_000, "all connected");
    const liveBefore = [1, 2, 3, 4, 5].map((id) => f.pool.current(id));
    await sshds[4].stop();
    await until(() => f.pool.status(5).state !== "connected", 5_000, "instance 5 down");

    const rotation = new KeyRotation({
      db: f.db,
      pool: f.pool,
      keys: f.keys,
      instances: f.instances,
      events: f.events,
      audit: f.audit,
    });
    const report = await rotation.rotate({ id: 1, name: "admin" });
    assert.equal(report.resumed, false);
    assert.equal(report.full_success, false);
    assert.deepEqual(report.instance_statuses.map((s) => [s.instance_id, s.success]), [
      [1, true],
      [2, true],
      [3, true],
      [4, true],
      [5, false],
    ]);
    assert.notEqual(report.new_fingerprint, report.old_fingerprint);
    const newKey = f.keys.publicKey;
    assert.notEqual(newKey, oldKey);
    for (const sshd of sshds.slice(0, 4)) {
      const lines = await sshd.readAuthorizedKeys();
      assert.ok(has(lines, newKey), "new key installed");
      assert.ok(!has(lines, oldKey), "old key removed");
      assert.match(
        lines.find((l) => has([l], newKey))!,
        /^restrict,pty,port-forwarding,permitopen="127\.0\.0\.1:3000",permitopen="127\.0\.0\.1:18789" ssh-ed25519 /,
      );
    }
    for (let id = 1; id <= 4; id++) {
      assert.equal(f.pool.current(id), liveBefore[id - 1], "existing connections stayed up");
    }
    assert.ok(f.keys.previous, "old pair kept while an instance lacks the new key");
    const reopened = await SshKeyStore.open(f.dir);
    assert.equal(reopened.previous?.publicKey, oldKey, "the pending old key survives a restart");

    await sshds[4].start();
    await until(() => f.pool.status(5).state === "connected", 10_000, "instance 5 back (with the old key)");
    const again = await rotation.rotate({ id: 1, name: "admin" });
    assert.equal(again.resumed, true);
    assert.equal(again.full_success, true, JSON.stringify(again));
    assert.equal(again.new_fingerprint, report.new_fingerprint);
    const lines5 = await sshds[4].readAuthorizedKeys();
    assert.ok(has(lines5, newKey) && !has(lines5, oldKey));
    assert.equal(f.keys.previous, null);
    for (let id = 1; id <= 5; id++) await f.pool.verifyLogin(id, f.keys.privateKey);
    const audits = f.audit.query({ action: "ssh.key_rotation", limit: 5, offset: 0 }).entries;
    assert.deepEqual(audits.map((a) => a.outcome), ["success", "failure"]);
    assert.ok(f.events.list(1).some((e) => e.type === "key_uploaded"));
    assert.equal(
      f.audit.query({ action: "ssh.key_install", limit: 20, offset: 0 }).total,
      5,
      "4 in the first run, 1 in the second",
    );
    assert.ok(rotation.rotatedAt());
  } finally {
    await f.close();
    for (const s of sshds) await s.close();
  }
});

Deno.test("the rotation policy rotates only when the key is older than the configured days", async () => {
  const f = await poolFixture();
  try {
    const rotation = new KeyRotation({
      db: f.db,
      pool: f.pool,
      keys: f.keys,
      instances: f.instances,
      events: f.events,
      audit: f.audit,
    });
    const t0 = Date.parse("2026-01-01T00:00:00Z");
    assert.equal(
      await rotation.rotateIfDue(90, t0, { id: null, name: "system" }),
      null,
      "first check records the start",
    );
    assert.equal(await rotation.rotateIfDue(90, t0 + 89 * 86_400_000, { id: null, name: "system" }), null);
    assert.equal(
      await rotation.rotateIfDue(0, t0 + 900 * 86_400_000, { id: null, name: "system" }),
      null,
      "0 disables",
    );
    const before = f.keys.fingerprint();
    const report = await rotation.rotateIfDue(90, t0 + 91 * 86_400_000, { id: null, name: "system" });
    assert.equal(report?.full_success, true);
    assert.notEqual(f.keys.fingerprint(), before);
  } finally {
    await f.close();
  }
});

Deno.test("every rotation call is audited: one that joins a run going on, and one that throws", async () => {
  const f = await poolFixture();
  try {
    const deps = { db: f.db, pool: f.pool, instances: f.instances, events: f.events, audit: f.audit };
    const rotation = new KeyRotation({ ...deps, keys: f.keys });
    const [a, b] = await Promise.all([
      rotation.rotate({ id: 1, name: "alice" }),
      rotation.rotate({ id: 2, name: "bob" }),
    ]);
    assert.equal(a, b, "one run, shared");
    const entries = () => f.audit.query({ action: "ssh.key_rotation", limit: 10, offset: 0 }).entries;
    assert.deepEqual(
      entries().map((e) => [e.actor, e.outcome, e.details.joined_running ?? false]).sort(),
      [["alice", "success", false], ["bob", "success", true]],
    );

    // The new key cannot be stored (a full or failing disk): the error reaches the caller and the audit log.
    const failingKeys = Object.create(f.keys, {
      rotateTo: { value: () => Promise.reject(new Error("No space left on device")) },
    });
    await assert.rejects(new KeyRotation({ ...deps, keys: failingKeys }).rotate({ id: 1, name: "alice" }), /No space/);
    const failed = entries().find((e) => e.outcome === "failure");
    assert.equal(failed?.details.error, "No space left on device");
  } finally {
    await f.close();
  }
});

Deno.test("shell quoting survives quotes and metacharacters", async () => {
  const nasty = `a'b"c $(x) \`y\` ; & | \\ end`;
  const out = await new Deno.Command("sh", { args: ["-c", `printf '%s' ${shellQuote(nasty)}`] }).output();
  assert.equal(new TextDecoder().decode(out.stdout), nasty);
});
