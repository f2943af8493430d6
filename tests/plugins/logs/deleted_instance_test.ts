import assert from "node:assert/strict";
import type { SshEndpoint } from "../../../core/mod.ts";
import { authorizedLine } from "../../../core/ssh/authorized_line.ts";
import { builtinPlugins } from "../../../plugins/mod.ts";
import { testApp } from "../../_helpers/harness.ts";
import { fixedBackend } from "../../harness/fixed_backend.ts";
import { until } from "../../harness/pool.ts";
import { readEvents } from "../../harness/sse.ts";
import { startSshd } from "../../harness/sshd.ts";
import { eventsNamed, logLines } from "./_events.ts";

/** An app whose one instance is a real sshd with an sshd log; its engine takes 500 ms to remove a container. */
async function world() {
  const varLog = await Deno.makeTempDir({ prefix: "claworc-logs-deleted-" });
  await Deno.chmod(varLog, 0o755);
  await Deno.mkdir(`${varLog}/claworc`, { mode: 0o755 });
  await Deno.writeTextFile(`${varLog}/claworc/sshd.log`, "one\ntwo\n", { mode: 0o644 });
  const endpoints = new Map<string, SshEndpoint>();
  const backend = fixedBackend(endpoints, { removeDelayMs: 500 });
  const t = await testApp({}, [...builtinPlugins(), backend]);
  const sshd = await startSshd({
    authorizedKeys: [authorizedLine(t.services.sshKeys.publicKey, t.services.ssh.targets)],
    binds: [{ source: varLog, target: "/var/log" }],
  }).catch(async (e) => {
    await t.close();
    throw e;
  });
  endpoints.set("bot-a", { host: sshd.host, port: sshd.port, username: sshd.user });
  const id = t.services.instances.insert("bot-a", "A").id;
  const admin = await t.setupAdmin();
  /** A followed sshd log that has sent its lines. */
  const follow = async () => {
    const res = await t.request("GET", `/api/v1/instances/${id}/logs?type=sshd&follow=true`, { cookie: admin });
    const events = readEvents(res);
    await until(() => logLines(events.text()).includes("two"), 10_000, "the log's lines");
    return events;
  };
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await t.close();
    await sshd.close();
    await Deno.remove(varLog, { recursive: true });
  };
  return { t, id, admin, follow, close };
}

Deno.test({
  name: "logs: a followed log of an instance being deleted ends saying so, not 'reopen the log'",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const w = await world();
    try {
      const events = await w.follow();
      try {
        const del = await w.t.request("DELETE", `/api/v1/instances/${w.id}`, { cookie: w.admin });
        assert.equal(del.status, 204, await del.clone().text());
        await until(() => eventsNamed(events.text(), "end").length > 0, 10_000, "the end event");
        assert.deepEqual(eventsNamed(events.text(), "end"), [{ reason: "The instance was deleted." }]);
      } finally {
        events.cancel();
      }
    } finally {
      await w.close();
    }
  },
});

Deno.test({
  name: "logs: followed logs still open when the control plane closes end without an uncaught error",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const w = await world();
    try {
      const streams = [await w.follow(), await w.follow()];
      for (const s of streams) s.cancel();
      // Their channels close after the database did; an exception there would fail this test file.
      await w.close();
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      await w.close();
    }
  },
});
