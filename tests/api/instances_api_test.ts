import assert from "node:assert/strict";
import { testApp } from "../_helpers/harness.ts";
import { until } from "../harness/pool.ts";
import { readEvents } from "../harness/sse.ts";

Deno.test("instance input is validated at the edge: clear 400s, and 503 naming the missing backend", async () => {
  const t = await testApp();
  try {
    const admin = await t.setupAdmin();
    const bad = [
      [{}, /display_name/],
      [{ display_name: "x", memory_limit: "12Mi" }, /memory_limit.*256Mi/],
      [{ display_name: "x", cpu_limit: "0" }, /cpu_limit/],
      [{ display_name: "x", image: "bad image; rm -rf /" }, /image/],
      [{ display_name: "x", vnc_resolution: "huge" }, /vnc_resolution/],
      [{ display_name: "x", privileged: true }, /privileged|Unrecognized/i],
    ] as const;
    for (const [body, message] of bad) {
      const res = await t.request("POST", "/api/v1/instances", { cookie: admin, body });
      assert.equal(res.status, 400, JSON.stringify(body));
      const err = await res.json();
      assert.equal(err.code, "VALIDATION_FAILED");
      assert.match(err.detail, message);
    }
    const none = await t.request("POST", "/api/v1/instances", { cookie: admin, body: { display_name: "Bot" } });
    assert.equal(none.status, 503);
    assert.equal((await none.json()).code, "NO_BACKEND");
    assert.deepEqual(t.services.instances.all(), [], "nothing half-made");
  } finally {
    await t.close();
  }
});

Deno.test("PUT renames without a backend, refuses bad sizes; reorder puts the given ids first", async () => {
  const t = await testApp();
  try {
    const admin = await t.setupAdmin();
    const [a, b, c] = ["bot-a", "bot-b", "bot-c"].map((n) => t.services.instances.insert(n, n.toUpperCase()));
    const put = await t.request("PUT", `/api/v1/instances/${a.id}`, { cookie: admin, body: { display_name: "Alpha" } });
    assert.equal(put.status, 200);
    assert.equal((await put.json()).display_name, "Alpha");
    for (const body of [{}, { cpu_limit: "lots" }, { name: "bot-x" }]) {
      const res = await t.request("PUT", `/api/v1/instances/${a.id}`, { cookie: admin, body });
      assert.equal(res.status, 400, JSON.stringify(body));
    }
    const stopped = await t.request("PUT", `/api/v1/instances/${b.id}`, { cookie: admin, body: { cpu_limit: "500m" } });
    assert.equal((await stopped.json()).cpu_limit, "500m");

    const reorder = (ids: number[]) =>
      t.request("PUT", "/api/v1/instances/reorder", { cookie: admin, body: { instance_ids: ids } });
    assert.equal((await reorder([c.id, a.id])).status, 200);
    const order = (await (await t.request("GET", "/api/v1/instances", { cookie: admin })).json()).map((
      i: { id: number },
    ) => i.id);
    assert.deepEqual(order, [c.id, a.id, b.id]);
    assert.equal((await reorder([c.id, c.id])).status, 400);
    assert.equal((await reorder([999])).status, 404);
    assert.ok(t.services.audit.query({ action: "instance.reorder", limit: 5, offset: 0 }).total >= 1);
  } finally {
    await t.close();
  }
});

Deno.test("the event stream pushes each user only the instances they may see", async () => {
  const t = await testApp();
  try {
    const admin = await t.setupAdmin();
    const mine = t.services.instances.insert("bot-mine", "Mine");
    const other = t.services.instances.insert("bot-other", "Other");
    const userId = await t.createUser(admin, "ursula");
    await t.request("PUT", `/api/v1/users/${userId}/instances`, { cookie: admin, body: { instance_ids: [mine.id] } });
    const user = await t.login("ursula", "ursula-password-1");
    assert.equal((await t.request("GET", "/api/v1/events")).status, 401);
    const userEvents = readEvents(await t.request("GET", "/api/v1/events", { cookie: user }));
    const adminEvents = readEvents(await t.request("GET", "/api/v1/events", { cookie: admin }));
    await until(() => userEvents.text().includes("event: ready") && adminEvents.text().includes("event: ready"));

    t.services.sshEvents.record(other.id, "health_check_failed", { layer: "command" });
    t.services.sshEvents.record(mine.id, "state_change", {}, { from: "disconnected", to: "connecting" });
    t.services.instances.setStatus(other.id, "error", "secret reason of another instance");
    t.services.instances.setStatus(mine.id, "running");
    t.services.instances.delete(other.id);
    t.services.instances.delete(mine.id);
    await until(() => adminEvents.text().includes(`"id":${mine.id}}`), 2_000, "admin sees the last deletion");
    await until(() => userEvents.text().includes(`event: instance_deleted\ndata: {"id":${mine.id}}`), 2_000);
    assert.match(userEvents.text(), new RegExp(`"id":${mine.id},[^}]*"status":"running"`));
    assert.ok(
      userEvents.text().includes(
        `event: ssh\ndata: {"instance_id":${mine.id},"event":"state_change","state":"connecting"}`,
      ),
      "SSH changes of an assigned instance are pushed",
    );
    assert.ok(!userEvents.text().includes(`"instance_id":${other.id}`), "not those of another");
    assert.doesNotMatch(userEvents.text(), /bot-other|secret reason/, "nothing about an unassigned instance");
    assert.ok(!userEvents.text().includes(`data: {"id":${other.id}}`), "not even its deletion");
    assert.match(adminEvents.text(), /secret reason of another instance/);
    userEvents.cancel();
    adminEvents.cancel();
  } finally {
    await t.close();
  }
});
