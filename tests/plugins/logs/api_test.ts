import assert from "node:assert/strict";
import { builtinPlugins } from "../../../plugins/mod.ts";
import { logsPlugin } from "../../../plugins/logs/mod.tsx";
import { testApp } from "../../_helpers/harness.ts";
import { until } from "../../harness/pool.ts";
import { readEvents } from "../../harness/sse.ts";

Deno.test("logs API without an engine: permissions, validation, types, the Logs tab, fallback notice and audit", async () => {
  const t = await testApp({}, [...builtinPlugins().filter((p) => p.name !== "logs"), logsPlugin()]);
  try {
    const admin = await t.setupAdmin();
    await t.createUser(admin, "plain");
    const assignedId = await t.createUser(admin, "assigned");
    const { id } = t.services.instances.insert("bot-logs", "Logs");
    t.services.users.setAssignedInstances(assignedId, [id]);
    const plain = await t.login("plain", "plain-password-1");
    const assigned = await t.login("assigned", "assigned-password-1");

    const types = await t.request("GET", `/api/v1/instances/${id}/logs/types`, { cookie: assigned });
    assert.equal(types.status, 200);
    const { types: list } = await types.json();
    assert.deepEqual(list.map((x: { id: string }) => x.id), [
      "openclaw",
      "sshd",
      "chromium",
      "xvfb",
      "x11vnc",
      "websockify",
      "supervisor",
      "system",
    ]);
    assert.deepEqual(list[1], { id: "sshd", label: "SSH server", path: "/var/log/claworc/sshd.log", followable: true });

    for (const path of [`/api/v1/instances/${id}/logs/types`, `/api/v1/instances/${id}/logs?type=sshd`]) {
      const anonymous = await t.request("GET", path);
      assert.equal(anonymous.status, 401, path);
      const denied = await t.request("GET", path, { cookie: plain });
      assert.equal(denied.status, 403, `${path}: an unassigned user`);
      assert.equal((await denied.json()).code, "FORBIDDEN");
    }
    assert.equal((await t.request("GET", "/api/v1/instances/999/logs/types", { cookie: admin })).status, 404);

    for (const query of ["type=nope", "type=../../etc/shadow", "tail=0", "tail=5001", "follow=yes"]) {
      const res = await t.request("GET", `/api/v1/instances/${id}/logs?${query}`, { cookie: admin });
      assert.equal(res.status, 400, query);
      const body = await res.json();
      assert.equal(body.code, "VALIDATION_FAILED", query);
      assert.match(body.detail, new RegExp(query.split("=")[0]), "the message names the field");
    }
    const before = t.services.audit.query({ action: "logs.view", limit: 10, offset: 0 }).total;
    assert.equal(before, 0, "refused requests open no stream and are not audited as views");

    // No runtime backend here: SSH cannot connect, and the container log cannot be read either; both are said.
    const res = await t.request("GET", `/api/v1/instances/${id}/logs?type=sshd&follow=true`, { cookie: assigned });
    assert.equal(res.headers.get("content-type"), "text/event-stream");
    const events = readEvents(res);
    await until(() => events.text().includes("event: end"), 10_000, "the stream to end");
    const text = events.text();
    assert.match(text, /event: ready\ndata: \{"type":"sshd","source":"container","follow":false,"tail":200\}/);
    assert.match(text, /event: notice\ndata: \{"level":"warning","fallback":true,"message":"SSH is unavailable \(/);
    assert.match(text, /event: notice\ndata: \{"level":"error","message":"The container log could not be read: No/);
    assert.match(text, /event: end\ndata: \{"reason":"complete"\}/);
    events.cancel();
    const audited = t.services.audit.query({ action: "logs.view", limit: 10, offset: 0 }).entries;
    assert.deepEqual(
      audited.map((e) => [e.actor, e.target, e.instance_id, e.details]),
      [["assigned", `instance:${id}`, id, { type: "sshd" }]],
    );

    const page = await t.request("GET", `/instances/${id}/logs`, { cookie: assigned });
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /data-island="log_viewer"/);
    assert.match(html, /<a href="\/instances\/\d+\/logs" aria-current="page">Logs<\/a>/);
    assert.match(html, /data-testid="log-type"/);
    assert.equal((await t.request("GET", `/instances/${id}/logs`, { cookie: plain })).status, 403);
  } finally {
    await t.close();
  }
});
