import assert from "node:assert/strict";
import { testApp } from "../_helpers/harness.ts";
import { builtinPlugins } from "../../plugins/mod.ts";
import { freePort, startSshd } from "../harness/sshd.ts";
import { authorizedLine } from "../../core/ssh/authorized_line.ts";
import { TUNNEL_TARGETS } from "../../core/ssh/tunnel_targets.ts";
import type { InstanceSpec } from "../../core/mod.ts";
import { type StaticHost, staticHostsPlugin } from "../../docs/examples/static_hosts_backend.ts";

/** docs/plugins.md's worked example is real: it compiles, registers, and Claworc reaches its host over SSH. */
Deno.test("docs example: the static-hosts runtime backend claims a host and Claworc connects to it", async () => {
  const port = freePort();
  const host: StaticHost = { label: "box-1", ssh: { host: "127.0.0.1", port, username: "claworc-test" } };
  const plugins = builtinPlugins().filter((p) => p.name !== "docker" && p.name !== "kubernetes");
  const t = await testApp({}, [...plugins, staticHostsPlugin({ hosts: [host] })]);
  const sshd = await startSshd({
    port,
    authorizedKeys: [authorizedLine(t.services.sshKeys.publicKey, TUNNEL_TARGETS)],
  });
  try {
    const admin = await t.setupAdmin();
    const backend = t.services.runtime.backend!;
    assert.equal(backend.name, "static-hosts");
    const health = await (await t.request("GET", "/health")).json();
    assert.equal(health.backend, "static-hosts");

    const row = t.services.instances.insert("bot-example", "Example");
    const spec = { id: row.id, name: row.name, files: {}, volumes: {} } as unknown as InstanceSpec;
    await backend.createVolumes(spec);
    await backend.createWorkload(spec);
    await backend.start(row.name);
    assert.deepEqual(await backend.status(row.name), { status: "running" });
    assert.deepEqual((await backend.list()).map((i) => [i.name, i.instanceId]), [["bot-example", row.id]]);

    const test = await (await t.request("GET", `/api/v1/instances/${row.id}/ssh-test`, { cookie: admin })).json();
    assert.equal(test.status, "ok", test.error);

    // One host, one instance: a second claim is refused with a clear error.
    const other = { ...spec, id: row.id + 1, name: "bot-other" };
    await assert.rejects(backend.createVolumes(other), /Every static host already runs an instance/);
    await sshd.stop();
    assert.equal((await backend.status(row.name)).status, "stopped");
    await backend.remove(row.name);
    assert.equal((await backend.status(row.name)).status, "missing");
  } finally {
    await t.close();
    await sshd.close();
  }
});
