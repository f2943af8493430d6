import assert from "node:assert/strict";
import type { SshEndpoint } from "../../core/mod.ts";
import { authorizedLine } from "../../core/ssh/authorized_line.ts";
import { generateKeyPair } from "../../core/ssh/key_store.ts";
import { fingerprint } from "../../core/ssh/public_key.ts";
import { builtinPlugins } from "../../plugins/mod.ts";
import { type TestApp, testApp } from "../_helpers/harness.ts";
import { fixedBackend } from "../harness/fixed_backend.ts";
import { freePort, type Sshd, startSshd } from "../harness/sshd.ts";

/**
 * The SSH endpoints over a real OpenSSH sshd. The harness app runs on a ManualClock, so the SSH rate
 * limiter's window never moves: each test keeps its attempts per instance well under 10, and under 5
 * consecutive failures.
 */

interface SshEvent {
  type: string;
  timestamp: string;
  from: string | null;
  to: string | null;
  details: Record<string, unknown>;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** An app on the fixed test backend (instance name → endpoint). */
async function sshApp(): Promise<{ t: TestApp; endpoints: Map<string, SshEndpoint> }> {
  const endpoints = new Map<string, SshEndpoint>();
  const t = await testApp({}, [...builtinPlugins(), fixedBackend(endpoints)]);
  return { t, endpoints };
}

/** A harness sshd that accepts the app's key (restricted as an instance would install it), wired to `name`. */
async function sshdFor(t: TestApp, endpoints: Map<string, SshEndpoint>, name: string): Promise<Sshd> {
  const sshd = await startSshd({
    authorizedKeys: [authorizedLine(t.services.sshKeys.publicKey, t.services.ssh.targets)],
  });
  endpoints.set(name, {
    host: sshd.host,
    port: sshd.port,
    username: sshd.user,
    authorizedKeysFile: `${sshd.dir}/authorized_keys`,
  });
  return sshd;
}

async function getJson(t: TestApp, path: string, cookie?: string, status = 200) {
  const res = await t.request("GET", path, { cookie });
  const body = await res.json();
  assert.equal(res.status, status, `GET ${path}: ${JSON.stringify(body)}`);
  return body;
}

async function events(t: TestApp, id: number, cookie: string): Promise<SshEvent[]> {
  const body = await getJson(t, `/api/v1/instances/${id}/ssh-events`, cookie);
  assert.deepEqual(Object.keys(body), ["events"]);
  return body.events;
}

function auditOf(t: TestApp, action: string, instanceId?: number) {
  return t.services.audit.query({ action, instance_id: instanceId, limit: 50, offset: 0 }).entries;
}

Deno.test("ssh-fingerprint: the control plane's key, as ssh-keygen sees it, to any signed-in user", async () => {
  const t = await testApp();
  try {
    const admin = await t.setupAdmin();
    await t.createUser(admin, "uma");
    const uma = await t.login("uma", "uma-password-1");

    const body = await getJson(t, "/api/v1/ssh-fingerprint", uma);
    assert.deepEqual(Object.keys(body).sort(), ["fingerprint", "public_key"]);
    assert.match(body.fingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
    assert.match(body.public_key, /^ssh-ed25519 [A-Za-z0-9+/]+={0,2}( |$)/);
    assert.deepEqual(await getJson(t, "/api/v1/ssh-fingerprint", admin), body, "same key for every user");

    const pubFile = `${t.dataPath}/ssh_key.pub`;
    assert.equal((await Deno.readTextFile(pubFile)).trim(), body.public_key);
    const out = await new Deno.Command("ssh-keygen", { args: ["-l", "-f", pubFile], stdout: "piped", stderr: "piped" })
      .output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    // "256 SHA256:... comment (ED25519)"
    const [bits, printed] = new TextDecoder().decode(out.stdout).trim().split(/\s+/);
    assert.equal(bits, "256");
    assert.equal(printed, body.fingerprint);

    const priv = await Deno.stat(`${t.dataPath}/ssh_key`);
    assert.equal(priv.mode! & 0o777, 0o600, "private key is owner-only");
    assert.ok((await Deno.readTextFile(`${t.dataPath}/ssh_key`)).includes("OPENSSH PRIVATE KEY"));
    assert.ok(!JSON.stringify(body).includes("PRIVATE"), "the private key never leaves the server");

    const anon = await t.request("GET", "/api/v1/ssh-fingerprint");
    assert.equal(anon.status, 401);
    assert.equal((await anon.json()).code, "UNAUTHENTICATED");
  } finally {
    await t.close();
  }
});

Deno.test("ssh-test, ssh-status, ssh-events, tunnels and ssh-reconnect on a live instance", async () => {
  const { t, endpoints } = await sshApp();
  let sshd: Sshd | undefined;
  try {
    const admin = await t.setupAdmin();
    const inst = t.services.instances.insert("bot-a", "A");
    sshd = await sshdFor(t, endpoints, "bot-a");
    const base = `/api/v1/instances/${inst.id}`;

    // Before any connection: disconnected, no metrics, both named tunnels unknown, no history.
    const before = await getJson(t, `${base}/ssh-status`, admin);
    assert.equal(before.state, "disconnected");
    assert.equal(before.metrics, null);
    assert.deepEqual(before.recent_events, []);
    assert.deepEqual(await events(t, inst.id, admin), []);

    // 2. ssh-test as admin.
    const test = await getJson(t, `${base}/ssh-test`, admin);
    assert.deepEqual(Object.keys(test).sort(), ["error", "latency_ms", "output", "status"]);
    assert.equal(test.status, "ok");
    assert.equal(test.output, "ok");
    assert.equal(test.error, "");
    assert.equal(typeof test.latency_ms, "number");
    assert.ok(Number.isInteger(test.latency_ms) && test.latency_ms >= 0);
    const audited = auditOf(t, "ssh.test", inst.id);
    assert.equal(audited.length, 1);
    assert.equal(audited[0].actor, "admin");
    assert.equal(audited[0].actor_id, 1);
    assert.equal(audited[0].instance_id, inst.id);
    assert.equal(audited[0].target, `instance:${inst.id}`);
    assert.equal(audited[0].outcome, "success");
    assert.equal(audited[0].details.latency_ms, test.latency_ms);
    assert.equal(t.services.hostKeys.get(inst.id)?.source, "first-use", "host key pinned on first use");

    // Unassigned user: 403 on every instance-scoped SSH route; once assigned: 200.
    const uid = await t.createUser(admin, "uma");
    const uma = await t.login("uma", "uma-password-1");
    for (const path of ["ssh-test", "ssh-status", "ssh-events", "tunnels"]) {
      const denied = await t.request("GET", `${base}/${path}`, { cookie: uma });
      assert.equal(denied.status, 403, path);
      assert.equal((await denied.json()).code, "FORBIDDEN", path);
    }
    const deniedReconnect = await t.request("POST", `${base}/ssh-reconnect`, { cookie: uma });
    assert.equal(deniedReconnect.status, 403);
    assert.equal(auditOf(t, "ssh.test", inst.id).length, 1, "a refused call runs and audits nothing");
    const assign = await t.request("PUT", `/api/v1/users/${uid}/instances`, {
      cookie: admin,
      body: { instance_ids: [inst.id] },
    });
    assert.equal(assign.status, 200);
    const userTest = await getJson(t, `${base}/ssh-test`, uma);
    assert.equal(userTest.status, "ok");
    assert.equal(userTest.output, "ok");
    const byUser = auditOf(t, "ssh.test", inst.id).find((e) => e.actor === "uma");
    assert.ok(byUser, "the assigned user's test is audited under their name");
    assert.equal(byUser.actor_id, uid);

    // 3. Status after connecting.
    const status = await getJson(t, `${base}/ssh-status`, admin);
    assert.deepEqual(Object.keys(status).sort(), ["metrics", "recent_events", "state", "tunnels"]);
    assert.equal(status.state, "connected");
    assert.match(status.metrics.connected_at, ISO);
    assert.equal(typeof status.metrics.uptime_ms, "number");
    assert.ok(Array.isArray(status.tunnels));
    assert.deepEqual(status.tunnels.map((x: { label: string }) => x.label), ["desktop", "gateway"]);
    assert.deepEqual(status.tunnels.map((x: { remote: string }) => x.remote), ["127.0.0.1:3000", "127.0.0.1:18789"]);
    for (const tunnel of status.tunnels) assert.ok(["unknown", "healthy", "error"].includes(tunnel.status));
    assert.deepEqual(
      status.recent_events.map((e: { from: string; to: string }) => [e.from, e.to]),
      [["disconnected", "connecting"], ["connecting", "connected"]],
    );
    const toConnected = status.recent_events.find((e: { to: string }) => e.to === "connected");
    assert.match(toConnected.timestamp, ISO);
    assert.equal(toConnected.reason, "connected");
    assert.equal(
      (await getJson(t, `${base}/ssh-status`, uma)).state,
      "connected",
      "the assigned user sees the status too",
    );

    const history = await events(t, inst.id, admin);
    assert.deepEqual(history.map((e) => e.type), ["state_change", "state_change", "connected"], "oldest first");
    assert.deepEqual([history[0].from, history[0].to], ["disconnected", "connecting"]);
    assert.deepEqual([history[1].from, history[1].to], ["connecting", "connected"]);
    assert.deepEqual(history[2].details, { host: sshd.host, port: sshd.port });
    for (const e of history) assert.match(e.timestamp, ISO);
    assert.equal(
      t.services.sshEvents.list(inst.id).filter((e) => e.type === "connected").length,
      1,
      "both tests shared one connection",
    );

    const tunnels = await getJson(t, `${base}/tunnels`, admin);
    assert.deepEqual(Object.keys(tunnels), ["tunnels"]);
    assert.deepEqual(tunnels.tunnels, status.tunnels);

    // 4. Manual reconnect: a new connection, a new event at the end of the history, audited.
    const firstConn = t.services.ssh.current(inst.id);
    assert.ok(firstConn);
    const res = await t.request("POST", `${base}/ssh-reconnect`, { cookie: admin });
    const reconnect = await res.json();
    assert.equal(res.status, 200, JSON.stringify(reconnect));
    assert.equal(reconnect.status, "ok");
    assert.equal(typeof reconnect.latency_ms, "number");
    assert.equal(reconnect.error, undefined);
    const secondConn = t.services.ssh.current(inst.id);
    assert.ok(secondConn && secondConn !== firstConn, "a fresh connection");
    const after = await events(t, inst.id, admin);
    assert.equal(after.length, history.length + 1);
    assert.deepEqual(after.slice(0, history.length), history, "older events keep their place");
    assert.ok(["connected", "reconnected"].includes(after.at(-1)!.type), "the newest event is last");
    const manual = auditOf(t, "ssh.manual_reconnect", inst.id);
    assert.equal(manual.length, 1);
    assert.equal(manual[0].actor, "admin");
    assert.equal(manual[0].outcome, "success");
    assert.equal(manual[0].details.latency_ms, reconnect.latency_ms);
    assert.equal((await getJson(t, `${base}/ssh-status`, admin)).state, "connected");
    assert.equal((await getJson(t, `${base}/ssh-test`, admin)).status, "ok", "works on the new connection");
    assert.equal(
      (await sshd.log()).match(/Accepted publickey/g)?.length,
      2,
      "sshd saw exactly two logins: the first test and the reconnect",
    );
  } finally {
    await sshd?.close();
    await t.close();
  }
});

Deno.test("ssh-test reports failures as status error: sshd down, unknown instance, no backend", async () => {
  const { t, endpoints } = await sshApp();
  try {
    const admin = await t.setupAdmin();
    const inst = t.services.instances.insert("bot-down", "Down");
    const port = freePort();
    endpoints.set("bot-down", { host: "127.0.0.1", port, username: "root" });
    const base = `/api/v1/instances/${inst.id}`;

    const test = await getJson(t, `${base}/ssh-test`, admin);
    assert.equal(test.status, "error");
    assert.equal(test.output, "");
    assert.equal(typeof test.error, "string");
    assert.ok(test.error.length > 0);
    assert.ok(test.error.includes(`127.0.0.1:${port}`), test.error);
    assert.equal(typeof test.latency_ms, "number");
    const audited = auditOf(t, "ssh.test", inst.id);
    assert.equal(audited.length, 1);
    assert.equal(audited[0].outcome, "failure");
    const status = await getJson(t, `${base}/ssh-status`, admin);
    assert.notEqual(status.state, "connected");
    assert.equal(status.metrics, null);
    assert.equal(t.services.ssh.current(inst.id), undefined);
    assert.ok(!(await events(t, inst.id, admin)).some((e) => e.type === "connected"));

    // An instance id that does not exist: 404 for an admin on every instance-scoped SSH route.
    for (const path of ["ssh-status", "ssh-events", "tunnels", "ssh-test"]) {
      const res = await t.request("GET", `/api/v1/instances/999/${path}`, { cookie: admin });
      assert.equal(res.status, 404, path);
      assert.equal((await res.json()).code, "INSTANCE_NOT_FOUND", path);
    }
    const missingReconnect = await t.request("POST", "/api/v1/instances/999/ssh-reconnect", { cookie: admin });
    assert.equal(missingReconnect.status, 404);
    assert.equal((await missingReconnect.json()).code, "INSTANCE_NOT_FOUND");
    assert.equal(auditOf(t, "ssh.test", 999).length, 0);
    const badId = await t.request("GET", "/api/v1/instances/abc/ssh-status", { cookie: admin });
    assert.equal(badId.status, 400);
  } finally {
    await t.close();
  }

  const plain = await testApp();
  try {
    const admin = await plain.setupAdmin();
    const inst = plain.services.instances.insert("bot-x", "X");
    const test = await getJson(plain, `/api/v1/instances/${inst.id}/ssh-test`, admin);
    assert.equal(test.status, "error");
    assert.match(test.error, /runtime backend/);
    assert.equal((await getJson(plain, `/api/v1/instances/${inst.id}/ssh-status`, admin)).metrics, null);
  } finally {
    await plain.close();
  }
});

Deno.test("allowed-source-ips: admin-only, validated, normalised, persisted and audited", async () => {
  const { t } = await sshApp();
  try {
    const admin = await t.setupAdmin();
    const inst = t.services.instances.insert("bot-ip", "IP");
    const path = `/api/v1/instances/${inst.id}/allowed-source-ips`;
    const put = (list: unknown, cookie = admin) =>
      t.request("PUT", path, { cookie, body: { allowed_source_ips: list } });

    const ok = await put(["10.0.0.0/8", "2001:db8::1"]);
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), {
      allowed_source_ips: ["10.0.0.0/8", "2001:db8::1"],
      applied_to_instance: false,
    });
    assert.deepEqual(t.services.instances.sourceIps(inst.id), ["10.0.0.0/8", "2001:db8::1"]);
    const change = auditOf(t, "instance.source_ips_change", inst.id);
    assert.equal(change.length, 1);
    assert.equal(change[0].actor, "admin");
    assert.equal(change[0].target, `instance:${inst.id}`);
    assert.deepEqual(change[0].details, { from: [], to: ["10.0.0.0/8", "2001:db8::1"], applied_to_instance: false });

    // Non-canonical input is normalised (host bits cleared, IPv6 compressed and lowercased, duplicates dropped).
    const norm = await put([" 10.1.2.3/8 ", "2001:DB8:0:0:0:0:0:1", "10.0.0.0/8", "::ffff:192.0.2.7"]);
    assert.equal(norm.status, 200);
    assert.deepEqual(await norm.json(), {
      allowed_source_ips: ["10.0.0.0/8", "2001:db8::1", "192.0.2.7"],
      applied_to_instance: false,
    });

    const bad = await put(["10.0.0.0/33"]);
    assert.equal(bad.status, 400);
    const badBody = await bad.json();
    assert.equal(badBody.code, "INVALID_SOURCE_IPS");
    assert.ok(JSON.stringify(badBody).includes("10.0.0.0/33"), JSON.stringify(badBody));
    const notIp = await put(["10.0.0.0/8", "example.com"]);
    assert.equal(notIp.status, 400);
    const notIpBody = await notIp.json();
    assert.equal(notIpBody.code, "INVALID_SOURCE_IPS");
    assert.ok(JSON.stringify(notIpBody).includes("example.com"), JSON.stringify(notIpBody));
    assert.deepEqual(
      t.services.instances.sourceIps(inst.id),
      ["10.0.0.0/8", "2001:db8::1", "192.0.2.7"],
      "a refused list changes nothing",
    );
    assert.equal(auditOf(t, "instance.source_ips_change", inst.id).length, 2);

    // A plain user, even one assigned to the instance, may not change it.
    const uid = await t.createUser(admin, "uma");
    const uma = await t.login("uma", "uma-password-1");
    await t.request("PUT", `/api/v1/users/${uid}/instances`, { cookie: admin, body: { instance_ids: [inst.id] } });
    const forbidden = await put(["0.0.0.0/0"], uma);
    assert.equal(forbidden.status, 403);
    assert.equal((await forbidden.json()).code, "FORBIDDEN");
    const anonymous = await t.request("PUT", path, { body: { allowed_source_ips: [] } });
    assert.equal(anonymous.status, 401);
    const notAList = await put("10.0.0.0/8");
    assert.equal(notAList.status, 400);
    const tooMany = await put(Array.from({ length: 101 }, (_, i) => `10.0.${i}.1`));
    assert.equal(tooMany.status, 400);
    assert.deepEqual(t.services.instances.sourceIps(inst.id), ["10.0.0.0/8", "2001:db8::1", "192.0.2.7"]);

    // An empty list lifts the restriction.
    const cleared = await put([]);
    assert.equal(cleared.status, 200);
    assert.deepEqual(await cleared.json(), { allowed_source_ips: [], applied_to_instance: false });
    assert.deepEqual(t.services.instances.sourceIps(inst.id), []);
    const missing = await t.request("PUT", "/api/v1/instances/999/allowed-source-ips", {
      cookie: admin,
      body: { allowed_source_ips: [] },
    });
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).code, "INSTANCE_NOT_FOUND");
  } finally {
    await t.close();
  }
});

Deno.test("allowed-source-ips is enforced before dialling: outside the list refused, inside allowed", async () => {
  const { t, endpoints } = await sshApp();
  let sshd: Sshd | undefined;
  try {
    const admin = await t.setupAdmin();
    const inst = t.services.instances.insert("bot-ip", "IP");
    sshd = await sshdFor(t, endpoints, "bot-ip");
    const base = `/api/v1/instances/${inst.id}`;
    const put = (list: string[]) =>
      t.request("PUT", `${base}/allowed-source-ips`, { cookie: admin, body: { allowed_source_ips: list } });

    // Our source address to the loopback sshd is 127.0.0.1, which 203.0.113.0/24 does not hold.
    assert.equal((await put(["203.0.113.0/24"])).status, 200);
    const blocked = await getJson(t, `${base}/ssh-test`, admin);
    assert.equal(blocked.status, "error");
    assert.match(blocked.error, /allowed source IPs/);
    const ipEvent = (await events(t, inst.id, admin)).find((e) => e.type === "ip_blocked");
    assert.ok(ipEvent, "an ip_blocked event is recorded");
    assert.deepEqual(ipEvent.details.allowed, ["203.0.113.0/24"]);
    const ipAudit = auditOf(t, "ssh.ip_blocked", inst.id);
    assert.equal(ipAudit.length, 1);
    assert.equal(ipAudit[0].outcome, "denied");
    assert.ok(!(await sshd.log()).includes("Accepted publickey"), "sshd was never logged into");
    assert.notEqual((await getJson(t, `${base}/ssh-status`, admin)).state, "connected");
    assert.equal(
      ipEvent.details.local_address,
      "127.0.0.1",
      "the refusal names the real source address (core/ssh/local_address.ts)",
    );
    assert.ok(blocked.error.includes("127.0.0.1"), blocked.error);

    // A list that holds 127.0.0.1 lets it through (one failure so far: far from the limiter's block).
    assert.equal((await put(["127.0.0.0/8"])).status, 200);
    const allowed = await getJson(t, `${base}/ssh-test`, admin);
    assert.equal(allowed.status, "ok", allowed.error);
    assert.equal(allowed.output, "ok");
    assert.equal((await getJson(t, `${base}/ssh-status`, admin)).state, "connected");
    assert.equal(auditOf(t, "ssh.ip_blocked", inst.id).length, 1);

    // On a connected instance the key line's from= follows the list, so sshd enforces it too.
    const widened = await (await put(["127.0.0.0/8", "10.0.0.0/8"])).json();
    assert.equal(widened.applied_to_instance, true);
    assert.deepEqual(await sshd.readAuthorizedKeys(), [
      authorizedLine(t.services.sshKeys.publicKey, t.services.ssh.targets, "127.0.0.0/8,10.0.0.0/8"),
    ]);
    // Narrowing it to exclude this machine closes the live connection at once.
    const narrowed = await (await put(["203.0.113.0/24"])).json();
    assert.equal(narrowed.applied_to_instance, true);
    assert.match((await sshd.readAuthorizedKeys())[0], /from="203\.0\.113\.0\/24"/);
    const status = await getJson(t, `${base}/ssh-status`, admin);
    assert.equal(status.state, "failed");
    assert.equal(status.metrics, null);
  } finally {
    await sshd?.close();
    await t.close();
  }
});

Deno.test("a host key that differs from the pin is refused, fails the link and is audited", async () => {
  const { t, endpoints } = await sshApp();
  let sshd: Sshd | undefined;
  try {
    const admin = await t.setupAdmin();
    const inst = t.services.instances.insert("bot-hk", "HK");
    sshd = await sshdFor(t, endpoints, "bot-hk");
    const wrong = generateKeyPair("impostor").publicKey;
    t.services.hostKeys.pin(inst.id, wrong, "first-use");
    const base = `/api/v1/instances/${inst.id}`;

    const test = await getJson(t, `${base}/ssh-test`, admin);
    assert.equal(test.status, "error");
    assert.match(test.error, /host key/i);
    assert.ok(test.error.includes(fingerprint(wrong)), test.error);
    assert.ok(test.error.includes(fingerprint(sshd.hostPublicKey)), test.error);
    assert.equal((await getJson(t, `${base}/ssh-status`, admin)).state, "failed");
    assert.equal(t.services.hostKeys.get(inst.id)?.host_key, wrong, "the pin is not overwritten");
    const mismatch = auditOf(t, "ssh.host_key_mismatch", inst.id);
    assert.equal(mismatch.length, 1);
    assert.equal(mismatch[0].outcome, "failure");
    assert.deepEqual(mismatch[0].details, {
      presented: fingerprint(sshd.hostPublicKey),
      expected: fingerprint(wrong),
      host: sshd.host,
      port: sshd.port,
    });
    assert.ok((await events(t, inst.id, admin)).some((e) => e.type === "host_key_mismatch"));

    // Further on-demand attempts are refused without dialling until someone reconnects by hand.
    const again = await getJson(t, `${base}/ssh-test`, admin);
    assert.equal(again.status, "error");
    assert.match(again.error, /host key/i);
    assert.equal(auditOf(t, "ssh.host_key_mismatch", inst.id).length, 1, "no second dial");

    // A manual reconnect against the same wrong pin fails once (no retries on a mismatch), audited.
    const res = await t.request("POST", `${base}/ssh-reconnect`, { cookie: admin });
    assert.equal(res.status, 200);
    const failed = await res.json();
    assert.equal(failed.status, "error");
    assert.match(failed.error, /host key/i);
    assert.equal(auditOf(t, "ssh.host_key_mismatch", inst.id).length, 2, "one dial, no retries");
    assert.equal(auditOf(t, "ssh.manual_reconnect", inst.id)[0].outcome, "failure");

    // With the right key pinned, a manual reconnect recovers the link from `failed`.
    t.services.hostKeys.pin(inst.id, sshd.hostPublicKey, "backend");
    const fixedRes = await t.request("POST", `${base}/ssh-reconnect`, { cookie: admin });
    const fixed = await fixedRes.json();
    assert.equal(fixed.status, "ok", fixed.error);
    const status = await getJson(t, `${base}/ssh-status`, admin);
    assert.equal(status.state, "connected");
    assert.deepEqual(status.recent_events.at(-1), {
      from: "failed",
      to: "connected",
      timestamp: status.recent_events.at(-1).timestamp,
      reason: "reconnected",
    });
    assert.equal((await events(t, inst.id, admin)).at(-1)!.type, "reconnected");
  } finally {
    await sshd?.close();
    await t.close();
  }
});
