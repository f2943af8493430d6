import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../../core/config.ts";
import { openServices } from "../../core/boot.ts";
import { silentLogger } from "../../core/log.ts";
import { verifyPassword } from "../../core/auth/passwords.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

async function cli(
  dataPath: string,
  args: string[],
  stdin = "",
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "cli", ...args],
    cwd: ROOT,
    env: { CLAWORC_DATA_PATH: dataPath, ...env },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(stdin));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  return { code, out: new TextDecoder().decode(stdout), err: new TextDecoder().decode(stderr) };
}

Deno.test("operators create admins, list users and reset passwords from the command line", async () => {
  const dataPath = `./data/cli-${crypto.randomUUID().slice(0, 8)}`;
  try {
    const created = await cli(dataPath, ["admin", "create", "--username", "ops"], "ops-password-77\n");
    assert.equal(created.code, 0, created.err);
    assert.match(created.out, /Created admin "ops" \(id 1\)/);
    const weak = await cli(dataPath, ["admin", "create", "--username", "weak", "--password", "short"]);
    assert.equal(weak.code, 2);
    assert.match(weak.err, /Invalid password: must be at least 10 characters/);
    const dup = await cli(dataPath, ["admin", "create", "--username", "OPS", "--password", "another-password"]);
    assert.equal(dup.code, 2);
    assert.match(dup.err, /already taken/);
    const reset = await cli(dataPath, ["admin", "reset-password", "--username", "ops"], "new-ops-password\n");
    assert.equal(reset.code, 0, reset.err);
    const list = await cli(dataPath, ["admin", "list"]);
    assert.match(list.out, /1\s+ops\s+admin/);
    const doctor = await cli(dataPath, ["doctor"]);
    assert.ok(doctor.code === 0 || doctor.code === 1, doctor.err);
    assert.match(doctor.out, /^ok {3}database: intact; schema \d+$/m);
    assert.match(doctor.out, /^ok {3}master key: master\.key opens the stored secrets/m);
    assert.match(doctor.out, /^(ok {3}|FAIL) runtime backend: /m);
    const unknown = await cli(dataPath, ["admin", "frobnicate"]);
    assert.equal(unknown.code, 2);

    const s = await openServices(loadConfig((n) => ({ CLAWORC_DATA_PATH: `${ROOT}/${dataPath}` })[n]), {
      log: silentLogger,
    });
    try {
      assert.ok(await verifyPassword("new-ops-password", s.users.credentials("ops")!.password_hash));
      const actions = s.audit.query({ actor: "cli", limit: 10, offset: 0 }).entries.map((e) => e.action).sort();
      assert.deepEqual(actions, ["user.create", "user.password_reset"]);
    } finally {
      s.db.close();
    }
  } finally {
    await Deno.remove(`${ROOT}/${dataPath}`, { recursive: true }).catch(() => {});
  }
});

Deno.test("an operator recovers an account that lost its passkeys: one password sign-in despite a passkeys-only policy", async () => {
  const dataPath = `./data/cli-${crypto.randomUUID().slice(0, 8)}`;
  const abs = `${ROOT}/${dataPath}`;
  try {
    assert.equal(
      (await cli(dataPath, ["admin", "create", "--username", "ops", "--password", "ops-password-77"])).code,
      0,
    );
    const open = () => openServices(loadConfig((n) => ({ CLAWORC_DATA_PATH: abs })[n]), { log: silentLogger });
    let s = await open();
    try {
      const id = s.users.credentials("ops")!.id;
      s.passkeys.store.add({
        id: "lost-passkey-credential-id",
        userId: id,
        name: "Lost phone",
        publicKey: new Uint8Array([1, 2, 3]),
        signCount: 0,
        transports: [],
        deviceType: "singleDevice",
        backedUp: false,
      }, new Date());
      s.settings.update({ password_sign_in: "disabled" });
      s.sessions.create(id, "192.0.2.1", "old browser");
    } finally {
      s.db.close();
    }

    const missing = await cli(dataPath, ["admin", "recover", "--username", "nobody", "--password", "x-password-1"]);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /No user named "nobody"/);
    const recovered = await cli(dataPath, ["admin", "recover", "--username", "ops"], "recovered-password-1\n");
    assert.equal(recovered.code, 0, recovered.err);
    assert.match(recovered.out, /1 passkey\(s\) deleted, 1 session\(s\) ended/);

    s = await open();
    try {
      const id = s.users.credentials("ops")!.id;
      assert.equal(s.passkeys.store.count(id), 0);
      assert.ok(s.recovery.open(id));
      assert.ok(await verifyPassword("recovered-password-1", s.users.credentials("ops")!.password_hash));
      const [entry] = s.audit.query({ action: "auth.recovery", limit: 10, offset: 0 }).entries;
      assert.equal(entry.actor, "cli");
      assert.equal(entry.target, "ops");
      assert.equal(entry.details.credentials_deleted, 1);
    } finally {
      s.db.close();
    }
  } finally {
    await Deno.remove(abs, { recursive: true }).catch(() => {});
  }
});

Deno.test("backup and restore from the command line, with the master key kept apart", async () => {
  const from = `./data/cli-${crypto.randomUUID().slice(0, 8)}`;
  const to = `./data/cli-${crypto.randomUUID().slice(0, 8)}`;
  const file = `${ROOT}/data/backup-${crypto.randomUUID().slice(0, 8)}.tar`;
  try {
    assert.equal((await cli(from, ["admin", "create", "--username", "ops", "--password", "ops-password-77"])).code, 0);
    const backup = await cli(from, ["backup", "--output", file]);
    assert.equal(backup.code, 0, backup.err);
    assert.match(backup.out, /Backed up claworc\.db, ssh_key, ssh_key\.pub .*master key is not in it/s);
    assert.equal((await cli(from, ["backup"])).code, 2, "--output is required");

    const noKey = await cli(to, ["restore", "--input", file]);
    assert.equal(noKey.code, 2);
    assert.match(noKey.err, /master key is missing/);
    await Deno.copyFile(`${ROOT}/${from}/master.key`, `${ROOT}/${to}/master.key`);
    const restored = await cli(to, ["restore", "--input", file]);
    assert.equal(restored.code, 0, restored.err);
    assert.match((await cli(to, ["admin", "list"])).out, /1\s+ops\s+admin/);
  } finally {
    for (const p of [`${ROOT}/${from}`, `${ROOT}/${to}`, file]) {
      await Deno.remove(p, { recursive: true }).catch(() => {});
    }
  }
});

Deno.test("keys show prints the SSH identity; keys rotate replaces it (refused while Claworc runs)", async () => {
  const dataPath = `./data/cli-${crypto.randomUUID().slice(0, 8)}`;
  try {
    assert.equal(
      (await cli(dataPath, ["admin", "create", "--username", "ops", "--password", "ops-password-77"])).code,
      0,
    );
    const shown = await cli(dataPath, ["keys", "show"]);
    assert.equal(shown.code, 0, shown.err);
    const [fp, pub] = shown.out.trim().split("\n");
    assert.match(fp, /^SHA256:[A-Za-z0-9+/]{43}$/);
    assert.equal(pub, (await Deno.readTextFile(`${ROOT}/${dataPath}/ssh_key.pub`)).trim());
    const rotated = await cli(dataPath, ["keys", "rotate"]);
    assert.equal(rotated.code, 0, rotated.err);
    assert.match(
      rotated.out,
      new RegExp(`^${fp.replace(/[+/]/g, "\\$&")} -> SHA256:\\S+ on 0 running instance\\(s\\)\\.$`, "m"),
    );
    const after = (await cli(dataPath, ["keys", "show"])).out.split("\n")[0];
    assert.notEqual(after, fp);

    // With a control plane answering on the configured address, the offline rotation is refused.
    const listener = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => new Response("ok"));
    try {
      const refused = await cli(dataPath, ["keys", "rotate"], "", { CLAWORC_PORT: String(listener.addr.port) });
      assert.equal(refused.code, 2);
      assert.match(refused.err, /Claworc is running .* rotate from Settings/);
    } finally {
      await listener.shutdown();
    }
  } finally {
    await Deno.remove(`${ROOT}/${dataPath}`, { recursive: true }).catch(() => {});
  }
});
