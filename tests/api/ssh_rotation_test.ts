import assert from "node:assert/strict";
import type { SshEndpoint } from "../../core/mod.ts";
import { authorizedLine } from "../../core/ssh/authorized_line.ts";
import { builtinPlugins } from "../../plugins/mod.ts";
import { testApp } from "../_helpers/harness.ts";
import { fixedBackend } from "../harness/fixed_backend.ts";
import { until } from "../harness/pool.ts";
import { startSshd } from "../harness/sshd.ts";

Deno.test("POST /settings/rotate-ssh-key rotates on running instances and reports per instance", async () => {
  const endpoints = new Map<string, SshEndpoint>();
  const t = await testApp({}, [...builtinPlugins(), fixedBackend(endpoints)]);
  const inst = t.services.instances.insert("bot-a", "A");
  const sshd = await startSshd({
    authorizedKeys: [authorizedLine(t.services.sshKeys.publicKey, t.services.ssh.targets)],
  });
  try {
    endpoints.set("bot-a", {
      host: sshd.host,
      port: sshd.port,
      username: sshd.user,
      authorizedKeysFile: `${sshd.dir}/authorized_keys`,
    });
    const admin = await t.setupAdmin();
    await t.createUser(admin, "ursula");
    const userCookie = await t.login("ursula", "ursula-password-1");
    t.services.ssh.start(inst.id);
    await until(() => t.services.ssh.status(inst.id).state === "connected", 10_000, "connected");
    const before = await (await t.request("GET", "/api/v1/ssh-fingerprint", { cookie: admin })).json();

    assert.equal((await t.request("POST", "/api/v1/settings/rotate-ssh-key", { cookie: userCookie })).status, 403);
    const res = await t.request("POST", "/api/v1/settings/rotate-ssh-key", { cookie: admin });
    assert.equal(res.status, 200);
    const report = await res.json();
    assert.equal(report.old_fingerprint, before.fingerprint);
    assert.equal(report.full_success, true, JSON.stringify(report));
    assert.deepEqual(report.instance_statuses, [{ instance_id: inst.id, name: "bot-a", success: true }]);
    const after = await (await t.request("GET", "/api/v1/ssh-fingerprint", { cookie: admin })).json();
    assert.equal(after.fingerprint, report.new_fingerprint);
    const lines = await sshd.readAuthorizedKeys();
    assert.equal(lines.length, 1, "only the new key remains");
    assert.ok(lines[0].endsWith(after.public_key));
    const test = await (await t.request("GET", `/api/v1/instances/${inst.id}/ssh-test`, {
      cookie: admin,
    })).json();
    assert.equal(test.status, "ok");
    assert.equal(
      (await t.request("POST", `/api/v1/instances/${inst.id}/ssh-reconnect`, { cookie: admin })).status,
      200,
    );
    assert.equal(t.services.ssh.status(inst.id).state, "connected", "a fresh login with the new key works");
    const audit = t.services.audit.query({ action: "ssh.key_rotation", limit: 1, offset: 0 }).entries[0];
    assert.equal(audit.actor, "admin");
    assert.equal(audit.outcome, "success");
  } finally {
    await t.close();
    await sshd.close();
  }
});
