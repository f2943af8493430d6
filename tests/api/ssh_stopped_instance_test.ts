import assert from "node:assert/strict";
import type { PluginContext, RuntimeBackend, SshEndpoint } from "../../core/mod.ts";
import { definePlugin } from "../../core/mod.ts";
import { authorizedLine } from "../../core/ssh/authorized_line.ts";
import { builtinPlugins } from "../../plugins/mod.ts";
import { type TestApp, testApp } from "../_helpers/harness.ts";
import { fixedBackend } from "../harness/fixed_backend.ts";
import { until } from "../harness/pool.ts";
import { startSshd } from "../harness/sshd.ts";

/**
 * ssh-test and ssh-reconnect on an instance that is stopped, stopping or being deleted: answered as
 * an error without dialling, so the pool does not adopt the instance (a background reconnect loop, and
 * an "active" instance key rotation then fails on).
 */

/** The fixed test backend, with `stop` and `remove` held until `release` is called. */
function heldBackend(endpoints: Map<string, SshEndpoint>) {
  let inner: RuntimeBackend | undefined;
  fixedBackend(endpoints).setup?.({ provideBackend: (b: RuntimeBackend) => inner = b } as unknown as PluginContext);
  const gate = Promise.withResolvers<void>();
  const backend: RuntimeBackend = { ...inner!, stop: () => gate.promise, remove: () => gate.promise };
  return {
    plugin: definePlugin({ name: "held-backend", needs: [], setup: (ctx) => ctx.provideBackend(backend) }),
    release: () => gate.resolve(),
  };
}

async function post(t: TestApp, path: string, cookie: string) {
  const res = await t.request("POST", path, { cookie });
  const body = await res.json();
  assert.equal(res.status, 200, `POST ${path}: ${JSON.stringify(body)}`);
  return body;
}

function reconnectingEvents(t: TestApp, id: number): number {
  return t.services.sshEvents.list(id, 200).filter((e) => e.type === "reconnecting").length;
}

Deno.test("ssh-reconnect and ssh-test on a stopped instance: an error, no dialling, no background reconnect", async () => {
  const endpoints = new Map<string, SshEndpoint>();
  const t = await testApp({}, [...builtinPlugins(), fixedBackend(endpoints)]);
  try {
    const admin = await t.setupAdmin();
    // A stopped container has no SSH endpoint (the Docker backend: "no network address").
    const inst = t.services.instances.insert("bot-stopped", "Stopped");
    t.services.instances.setStatus(inst.id, "stopped");
    const base = `/api/v1/instances/${inst.id}`;

    const reconnect = await post(t, `${base}/ssh-reconnect`, admin);
    assert.equal(reconnect.status, "error");
    assert.match(reconnect.error, /stopped/);
    const test = await (await t.request("GET", `${base}/ssh-test`, { cookie: admin })).json();
    assert.equal(test.status, "error");
    assert.match(test.error, /stopped/);

    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(t.services.ssh.activeIds(), [], "the pool does not keep a stopped instance connected");
    assert.equal(t.services.ssh.health(inst.id).state, "disconnected");
    assert.equal(reconnectingEvents(t, inst.id), 0, "no reconnect loop runs");

    const audited = (action: string) =>
      t.services.audit.query({ action, instance_id: inst.id, limit: 10, offset: 0 }).entries;
    assert.deepEqual(audited("ssh.manual_reconnect").map((e) => [e.actor, e.outcome]), [["admin", "failure"]]);
    assert.deepEqual(audited("ssh.test").map((e) => [e.actor, e.outcome]), [["admin", "failure"]]);
  } finally {
    await t.close();
  }
});

Deno.test("key rotation after ssh-test on a stopped instance still succeeds on the running ones", async () => {
  const endpoints = new Map<string, SshEndpoint>();
  const t = await testApp({}, [...builtinPlugins(), fixedBackend(endpoints)]);
  const sshd = await startSshd({
    authorizedKeys: [authorizedLine(t.services.sshKeys.publicKey, t.services.ssh.targets)],
  });
  try {
    const admin = await t.setupAdmin();
    const running = t.services.instances.insert("bot-running", "Running");
    t.services.instances.setStatus(running.id, "running");
    endpoints.set("bot-running", {
      host: sshd.host,
      port: sshd.port,
      username: sshd.user,
      authorizedKeysFile: `${sshd.dir}/authorized_keys`,
    });
    const stopped = t.services.instances.insert("bot-stopped", "Stopped");
    t.services.instances.setStatus(stopped.id, "stopped");

    const ok = await (await t.request("GET", `/api/v1/instances/${running.id}/ssh-test`, { cookie: admin })).json();
    assert.equal(ok.status, "ok", JSON.stringify(ok));
    const refused = await (await t.request("GET", `/api/v1/instances/${stopped.id}/ssh-test`, { cookie: admin }))
      .json();
    assert.equal(refused.status, "error");

    const report = await post(t, "/api/v1/settings/rotate-ssh-key", admin);
    assert.deepEqual(report.instance_statuses, [{ instance_id: running.id, name: "bot-running", success: true }]);
    assert.equal(report.full_success, true, JSON.stringify(report));
    assert.equal(t.services.sshKeys.previous, null, "the old key is dropped: nothing is left to finish");
  } finally {
    await t.close();
    await sshd.stop();
  }
});

Deno.test("ssh-reconnect while the instance is stopping or being deleted does not bring the link back", async () => {
  const endpoints = new Map<string, SshEndpoint>();
  const held = heldBackend(endpoints);
  const t = await testApp({}, [...builtinPlugins(), held.plugin]);
  const sshd = await startSshd({
    authorizedKeys: [authorizedLine(t.services.sshKeys.publicKey, t.services.ssh.targets)],
  });
  const actor = { id: null, name: "test" };
  try {
    const admin = await t.setupAdmin();
    const a = t.services.instances.insert("bot-a", "A");
    const b = t.services.instances.insert("bot-b", "B");
    for (const inst of [a, b]) {
      t.services.instances.setStatus(inst.id, "running");
      endpoints.set(inst.name, {
        host: sshd.host,
        port: sshd.port,
        username: sshd.user,
        authorizedKeysFile: `${sshd.dir}/authorized_keys`,
      });
      t.services.ssh.start(inst.id);
    }
    await until(() => t.services.ssh.activeIds().length === 2 && t.services.ssh.current(b.id) !== undefined, 10_000);

    const stopping = t.services.lifecycle.stop(a.id, actor);
    const deleting = t.services.lifecycle.delete(b.id, actor);
    assert.equal(t.services.lifecycle.busy(a.id), "stopping");
    assert.equal(t.services.lifecycle.busy(b.id), "being deleted");
    const answers = [];
    for (const inst of [a, b]) answers.push(await post(t, `/api/v1/instances/${inst.id}/ssh-reconnect`, admin));
    held.release();
    await stopping;
    await deleting;

    assert.deepEqual(t.services.ssh.activeIds(), [], "neither instance is kept connected");
    assert.equal(t.services.ssh.current(a.id), undefined);
    assert.equal(t.services.ssh.health(a.id).state, "disconnected");
    assert.deepEqual(answers.map((r) => r.status), ["error", "error"], JSON.stringify(answers));
    assert.match(answers[0].error, /stopping/);
    assert.match(answers[1].error, /being deleted/);
  } finally {
    held.release();
    await t.close();
    await sshd.stop();
  }
});
