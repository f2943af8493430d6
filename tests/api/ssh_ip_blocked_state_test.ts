import assert from "node:assert/strict";
import type { SshEndpoint } from "../../core/mod.ts";
import { authorizedLine } from "../../core/ssh/authorized_line.ts";
import { builtinPlugins } from "../../plugins/mod.ts";
import { type TestApp, testApp } from "../_helpers/harness.ts";
import { fixedBackend } from "../harness/fixed_backend.ts";
import { until } from "../harness/pool.ts";
import { type Sshd, startSshd } from "../harness/sshd.ts";

/**
 * A connection the source-IP allow-list refuses ends reconnecting: ssh-status then says `failed`, not
 * `reconnecting` with nothing retrying (our address to the loopback sshd is 127.0.0.1).
 */

async function setup(ssh = {}): Promise<{ t: TestApp; sshd: Sshd; id: number; admin: string }> {
  const endpoints = new Map<string, SshEndpoint>();
  const t = await testApp({}, [...builtinPlugins(), fixedBackend(endpoints)], { ssh });
  const sshd = await startSshd({
    authorizedKeys: [authorizedLine(t.services.sshKeys.publicKey, t.services.ssh.targets)],
  });
  const admin = await t.setupAdmin();
  const inst = t.services.instances.insert("bot-ip", "IP");
  t.services.instances.setStatus(inst.id, "running");
  endpoints.set("bot-ip", {
    host: sshd.host,
    port: sshd.port,
    username: sshd.user,
    authorizedKeysFile: `${sshd.dir}/authorized_keys`,
  });
  return { t, sshd, id: inst.id, admin };
}

async function sshStatus(t: TestApp, id: number, admin: string): Promise<string> {
  const res = await t.request("GET", `/api/v1/instances/${id}/ssh-status`, { cookie: admin });
  assert.equal(res.status, 200);
  return (await res.json()).state;
}

async function allowOnly(t: TestApp, id: number, admin: string, list: string[]): Promise<void> {
  const res = await t.request("PUT", `/api/v1/instances/${id}/allowed-source-ips`, {
    cookie: admin,
    body: { allowed_source_ips: list },
  });
  assert.equal(res.status, 200, await res.text());
}

Deno.test("ssh-reconnect refused by the source-IP list leaves the link failed, not reconnecting", async () => {
  const { t, sshd, id, admin } = await setup();
  try {
    await allowOnly(t, id, admin, ["203.0.113.0/24"]);
    const res = await t.request("POST", `/api/v1/instances/${id}/ssh-reconnect`, { cookie: admin });
    const body = await res.json();
    assert.equal(res.status, 200);
    assert.equal(body.status, "error");
    assert.match(body.error, /allowed source IPs/);

    await new Promise((r) => setTimeout(r, 400));
    assert.equal(await sshStatus(t, id, admin), "failed");
    const types = t.services.sshEvents.list(id, 50).map((e) => e.type);
    assert.equal(types.filter((t) => t === "ip_blocked").length, 1, `one refusal, no retries: ${types}`);
    assert.ok(!types.includes("reconnecting"), `no reconnect loop announced: ${types}`);
  } finally {
    await t.close();
    await sshd.close();
  }
});

Deno.test("a reconnect loop stopped by the source-IP list shows failed in ssh-status", async () => {
  // A slow first retry, so the list is changed while the loop waits.
  const { t, sshd, id, admin } = await setup({ reconnectDelaysMs: [500] });
  try {
    t.services.ssh.start(id);
    await until(() => t.services.ssh.current(id) !== undefined, 10_000, "connected");
    t.services.ssh.current(id)!.close();
    await until(() => t.services.ssh.health(id).state === "reconnecting", 5_000, "reconnecting");
    await allowOnly(t, id, admin, ["203.0.113.0/24"]);

    await until(() => t.services.sshEvents.list(id, 50).some((e) => e.type === "ip_blocked"), 5_000, "refused");
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await sshStatus(t, id, admin), "failed");
  } finally {
    await t.close();
    await sshd.close();
  }
});
