import assert from "node:assert/strict";
import { testApp } from "../_helpers/harness.ts";

Deno.test("the audit log filters, pages newest first and caps the limit", async () => {
  const t = await testApp();
  try {
    const admin = await t.setupAdmin();
    for (let i = 0; i < 30; i++) {
      t.clock.advance(1000);
      t.services.audit.record({
        actor: { id: 1, name: i % 2 ? "admin" : "bot" },
        action: i % 3 ? "demo.even" : "demo.third",
        target: `t${i}`,
        instanceId: i % 5 === 0 ? 7 : null,
      });
    }
    const page =
      await (await t.request("GET", "/api/v1/audit-logs?action=demo.even&limit=5&offset=0", { cookie: admin })).json();
    assert.equal(page.total, 20);
    assert.equal(page.entries.length, 5);
    assert.equal(page.entries[0].target, "t29", "newest first");
    const next =
      await (await t.request("GET", "/api/v1/audit-logs?action=demo.even&limit=5&offset=5", { cookie: admin })).json();
    assert.notEqual(next.entries[0].id, page.entries[0].id);
    const byInstance = await (await t.request("GET", "/api/v1/audit-logs?instance_id=7", { cookie: admin })).json();
    assert.equal(byInstance.total, 6);
    const byActor = await (await t.request("GET", "/api/v1/audit-logs?actor=bot&action=demo.third", { cookie: admin }))
      .json();
    assert.ok(
      byActor.entries.every((e: { actor: string; action: string }) => e.actor === "bot" && e.action === "demo.third"),
    );
    const since = page.entries[2].at;
    const ranged =
      await (await t.request("GET", `/api/v1/audit-logs?action=demo.even&since=${encodeURIComponent(since)}`, {
        cookie: admin,
      })).json();
    assert.equal(ranged.total, 3);
    assert.equal((await t.request("GET", "/api/v1/audit-logs?limit=1001", { cookie: admin })).status, 400);
    assert.equal((await t.request("GET", "/api/v1/audit-logs?since=yesterday", { cookie: admin })).status, 400);
    const actions = await (await t.request("GET", "/api/v1/audit-logs/actions", { cookie: admin })).json();
    assert.ok(actions.actions.includes("demo.third") && actions.actions.includes("auth.setup"));
  } finally {
    await t.close();
  }
});

Deno.test("audit entries carry actor, IP, target and outcome, never a secret", async () => {
  const t = await testApp();
  try {
    await t.request("POST", "/api/v1/auth/setup", {
      body: { username: "root1", password: "super-secret-pw" },
      ip: "203.0.113.5",
    });
    t.services.audit.record({
      actor: { id: null, name: "system" },
      action: "demo",
      details: { token: "abc", api_key: "k", keep: 1 },
    });
    const entries = t.services.audit.query({ limit: 10, offset: 0 }).entries;
    const setup = entries.find((e) => e.action === "auth.setup")!;
    assert.equal(setup.actor, "root1");
    assert.equal(setup.ip, "203.0.113.5");
    assert.equal(setup.outcome, "success");
    assert.equal(setup.target, "root1");
    const demo = entries.find((e) => e.action === "demo")!;
    assert.deepEqual(demo.details, { token: "[redacted]", api_key: "[redacted]", keep: 1 });
    assert.ok(!JSON.stringify(entries).includes("super-secret-pw"));
  } finally {
    await t.close();
  }
});

Deno.test("retention applies at once when an admin changes it, and the change is audited", async () => {
  const t = await testApp();
  try {
    await t.setupAdmin();
    t.services.audit.record({ actor: { id: null, name: "system" }, action: "old.event" });
    t.clock.advance(40 * 86_400_000);
    const admin = await t.login("admin", "admin-password-1");
    t.services.audit.record({ actor: { id: null, name: "system" }, action: "recent.event" });
    assert.equal(t.services.audit.query({ action: "old.event", limit: 1, offset: 0 }).total, 1, "90 days keeps it");
    const res = await t.request("PUT", "/api/v1/settings", { cookie: admin, body: { audit_retention_days: 30 } });
    assert.equal(res.status, 200);
    const saved = await res.json();
    assert.equal(saved.audit_retention_days, 30);
    assert.equal(saved.ssh_key_rotation_days, 90);
    assert.equal(
      t.services.audit.query({ action: "old.event", limit: 1, offset: 0 }).total,
      0,
      "purged without restart",
    );
    assert.equal(t.services.audit.query({ action: "recent.event", limit: 1, offset: 0 }).total, 1);
    const change = t.services.audit.query({ action: "settings.update", limit: 1, offset: 0 }).entries[0];
    assert.deepEqual(change.details, { audit_retention_days: { from: 90, to: 30 } });
    const current = await (await t.request("GET", "/api/v1/settings", { cookie: admin })).json();
    assert.equal(current.audit_retention_days, 30);
    assert.equal(current.ssh_key_rotation_days, 90);
    const bad = await t.request("PUT", "/api/v1/settings", { cookie: admin, body: { audit_retention_days: 0 } });
    assert.equal(bad.status, 400);
  } finally {
    await t.close();
  }
});

Deno.test("instance defaults are settings: validated, saved and audited", async () => {
  const t = await testApp();
  try {
    const admin = await t.setupAdmin();
    const saved = await t.request("PUT", "/api/v1/settings", {
      cookie: admin,
      body: { default_cpu_limit: "500m", default_memory_limit: "2Gi", default_vnc_resolution: "1920x1080" },
    });
    assert.equal(saved.status, 200);
    const values = await saved.json();
    assert.equal(values.default_cpu_limit, "500m");
    assert.equal(values.default_vnc_resolution, "1920x1080");
    for (
      const bad of [
        { default_cpu_limit: "0" },
        { default_memory_limit: "12Mi" },
        { default_vnc_resolution: "big" },
        { default_image: "bad image; rm -rf" },
      ]
    ) {
      const res = await t.request("PUT", "/api/v1/settings", { cookie: admin, body: bad });
      assert.equal(res.status, 400, JSON.stringify(bad));
      assert.match((await res.json()).detail, new RegExp(Object.keys(bad)[0]));
    }
    const audit = t.services.audit.query({ action: "settings.update", limit: 1, offset: 0 }).entries[0];
    assert.deepEqual(audit.details.default_cpu_limit, { from: "2", to: "500m" });
  } finally {
    await t.close();
  }
});
