import assert from "node:assert/strict";
import { testApp } from "../_helpers/harness.ts";

Deno.test("terminal recording settings: off and 30 days by default, validated, saved, audited, admin only", async () => {
  const t = await testApp();
  try {
    const admin = await t.setupAdmin();
    await t.createUser(admin, "bob");
    const bob = await t.login("bob", "bob-password-1");
    const current = async () => await (await t.request("GET", "/api/v1/settings", { cookie: admin })).json();
    const before = await current();
    assert.equal(before.terminal_recording, false);
    assert.equal(before.terminal_recording_retention_days, 30);

    const bad: [Record<string, unknown>, string][] = [
      [{ terminal_recording: "true" }, "terminal_recording"],
      [{ terminal_recording: 1 }, "terminal_recording"],
      [{ terminal_recording: null }, "terminal_recording"],
      [{ terminal_recording_retention_days: "30" }, "terminal_recording_retention_days"],
      [{ terminal_recording_retention_days: 0 }, "terminal_recording_retention_days"],
      [{ terminal_recording_retention_days: 3651 }, "terminal_recording_retention_days"],
      [{ terminal_recording_retention_days: 1.5 }, "terminal_recording_retention_days"],
      [{ terminal_recording: true, terminal_recording_retention_days: false }, "terminal_recording_retention_days"],
    ];
    for (const [body, field] of bad) {
      const res = await t.request("PUT", "/api/v1/settings", { cookie: admin, body });
      assert.equal(res.status, 400, JSON.stringify(body));
      const err = await res.json();
      assert.deepEqual(Object.keys(err).sort(), ["code", "detail"]);
      assert.equal(err.code, "VALIDATION_FAILED");
      assert.ok(err.detail.includes(field), `"${err.detail}" names ${field}`);
    }
    assert.deepEqual(await current(), before, "nothing of a refused change is applied");

    const refused = await t.request("PUT", "/api/v1/settings", { cookie: bob, body: { terminal_recording: true } });
    assert.equal(refused.status, 403);

    const res = await t.request("PUT", "/api/v1/settings", {
      cookie: admin,
      body: { terminal_recording: true, terminal_recording_retention_days: 3650 },
    });
    assert.equal(res.status, 200);
    const saved = await res.json();
    assert.equal(saved.terminal_recording, true);
    assert.equal(saved.terminal_recording_retention_days, 3650);
    assert.equal(t.services.settings.get().terminal_recording, true);
    const change = t.services.audit.query({ action: "settings.update", limit: 1, offset: 0 }).entries[0];
    assert.deepEqual(change.details, {
      terminal_recording: { from: false, to: true },
      terminal_recording_retention_days: { from: 30, to: 3650 },
    });
    const one = await t.request("PUT", "/api/v1/settings", {
      cookie: admin,
      body: { terminal_recording_retention_days: 1 },
    });
    assert.equal((await one.json()).terminal_recording_retention_days, 1);
  } finally {
    await t.close();
  }
});
