import assert from "node:assert/strict";
import type { SshEndpoint } from "../../core/mod.ts";
import { authorizedLine } from "../../core/ssh/authorized_line.ts";
import { builtinPlugins } from "../../plugins/mod.ts";
import { testApp } from "../_helpers/harness.ts";
import { fixedBackend } from "../harness/fixed_backend.ts";
import { until } from "../harness/pool.ts";
import { startSshd } from "../harness/sshd.ts";

/**
 * A source-IP list changed while a running instance's connection is down (applied_to_instance: false)
 * reaches its key line (sshd's from=) when the connection comes back, not only at the next start.
 */
Deno.test("allowed-source-ips changed during a reconnect is written to the key line once reconnected", async () => {
  const endpoints = new Map<string, SshEndpoint>();
  const t = await testApp({}, [...builtinPlugins(), fixedBackend(endpoints)], { ssh: { reconnectDelaysMs: [300] } });
  const sshd = await startSshd({
    authorizedKeys: [authorizedLine(t.services.sshKeys.publicKey, t.services.ssh.targets)],
  });
  try {
    const admin = await t.setupAdmin();
    const inst = t.services.instances.insert("bot-ip", "IP");
    t.services.instances.setStatus(inst.id, "running");
    endpoints.set("bot-ip", {
      host: sshd.host,
      port: sshd.port,
      username: sshd.user,
      authorizedKeysFile: `${sshd.dir}/authorized_keys`,
    });
    t.services.ssh.start(inst.id);
    await until(() => t.services.ssh.current(inst.id) !== undefined, 10_000, "connected");

    // The instance's sshd goes away for a moment; meanwhile the admin narrows the list (still holding us).
    await sshd.stop();
    await until(() => t.services.ssh.current(inst.id) === undefined, 5_000, "connection lost");
    const res = await t.request("PUT", `/api/v1/instances/${inst.id}/allowed-source-ips`, {
      cookie: admin,
      body: { allowed_source_ips: ["127.0.0.0/8"] },
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { allowed_source_ips: ["127.0.0.0/8"], applied_to_instance: false });

    await sshd.start();
    await until(() => t.services.ssh.current(inst.id) !== undefined, 10_000, "reconnected");
    const wanted = authorizedLine(t.services.sshKeys.publicKey, t.services.ssh.targets, "127.0.0.0/8");
    await until(
      async () => (await sshd.readAuthorizedKeys()).join("\n") === wanted,
      5_000,
      "the key line to carry from=127.0.0.0/8",
    ).catch(async (e) => {
      throw new Error(`${e.message}; authorized_keys: ${JSON.stringify(await sshd.readAuthorizedKeys())}`);
    });
  } finally {
    await t.close();
    await sshd.close();
  }
});
