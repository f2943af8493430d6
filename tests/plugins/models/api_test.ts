import assert from "node:assert/strict";
import { testApp } from "../../_helpers/harness.ts";

Deno.test("models API: validation, masked keys, audit without values, per-instance overrides, access", async () => {
  const t = await testApp();
  try {
    const admin = await t.setupAdmin();
    const put = (path: string, body: unknown, cookie = admin) => t.request("PUT", path, { cookie, body });

    // Bad input is refused with the field named, never stored.
    for (
      const [body, field] of [
        [{ primary: "no-slash" }, "primary"],
        [{ fallbacks: ["ok/model", "bad model"] }, "fallbacks"],
        [{ custom_providers: [{ id: "x", base_url: "ftp://x", models: ["m"] }] }, "base_url"],
        [{ custom_providers: [{ id: "openai", base_url: "http://x", models: ["m"] }] }, "id"],
        [{ keys: { openai: "has space" } }, "keys"],
        [{ keys: { nosuch: "k" } }, "nosuch"],
        [{ unknown: 1 }, "unknown"],
      ] as const
    ) {
      const res = await put("/api/v1/models", body);
      assert.equal(res.status, 400, JSON.stringify(body));
      const err = await res.json();
      assert.match(err.detail, new RegExp(field), JSON.stringify(err));
    }
    assert.deepEqual((await (await t.request("GET", "/api/v1/models", { cookie: admin })).json()).keys, []);

    // A valid change: keys come back masked only; the audit names what changed, not the values.
    const secret = "sk-test-0123456789-abcd";
    const res = await put("/api/v1/models", {
      primary: "fake/m1",
      fallbacks: ["openai/gpt-5"],
      custom_providers: [{ id: "fake", base_url: "http://127.0.0.1:18555/v1", models: ["m1"] }],
      keys: { openai: secret, fake: "fake-key-1234" },
    });
    assert.equal(res.status, 200);
    const view = await res.json();
    assert.equal(view.primary, "fake/m1");
    assert.deepEqual(view.keys.map((k: { provider: string; masked: string }) => [k.provider, k.masked]), [
      ["fake", "****1234"],
      ["openai", "****abcd"],
    ]);
    assert.deepEqual(view.rollout.results, [], "no instance yet");
    assert.ok(view.providers.some((p: { id: string }) => p.id === "brave"));
    const audit = await (await t.request("GET", "/api/v1/audit-logs?action=models.update", { cookie: admin })).text();
    assert.ok(audit.includes("keys_changed") && audit.includes("openai"));
    assert.ok(!audit.includes(secret) && !audit.includes("fake-key-1234"), "no key in the audit log");
    // Stored encrypted: the database file holds no key in clear.
    t.services.db.run("PRAGMA wal_checkpoint(TRUNCATE)");
    const dbBytes = new TextDecoder().decode(await Deno.readFile(`${t.dataPath}/claworc.db`));
    assert.ok(!dbBytes.includes(secret), "key in clear in the database");
    assert.deepEqual(await t.services.models.keys(null), { fake: "fake-key-1234", openai: secret });

    // Removing a key.
    const removed = await (await put("/api/v1/models", { keys: { openai: null } })).json();
    assert.deepEqual(removed.keys.map((k: { provider: string }) => k.provider), ["fake"]);
    assert.equal(removed.primary, "fake/m1", "a partial change keeps the rest");

    // Per instance: an override wins, the effective view says where each key comes from.
    const inst = t.services.instances.insert("bot-m", "M");
    const ip = `/api/v1/instances/${inst.id}/models`;
    const over = await put(ip, {
      primary: "fake/m1",
      disabled_models: ["openai/gpt-5"],
      keys: { fake: "own-key-9876" },
    });
    assert.equal(over.status, 200);
    const iv = await over.json();
    assert.deepEqual(iv.effective.models, ["fake/m1"]);
    assert.deepEqual(iv.effective.keys, [{ provider: "fake", source: "instance" }]);
    assert.deepEqual(iv.keys.map((k: { masked: string }) => k.masked), ["****9876"]);
    assert.equal(iv.rollout.results[0].instance_id, inst.id);
    // Not running: it waits for the instance's next start, and says so.
    const rid = iv.rollout.id;
    let rollout = iv.rollout;
    for (let i = 0; i < 50 && rollout.state !== "done"; i++) {
      await new Promise((r) => setTimeout(r, 20));
      rollout = await (await t.request("GET", `/api/v1/models/rollouts/${rid}`, { cookie: admin })).json();
    }
    assert.equal(rollout.results[0].state, "waiting");
    assert.equal((await (await t.request("GET", ip, { cookie: admin })).json()).sync.state, "pending");
    assert.equal((await put(ip, { keys: { nosuch: "x" } })).status, 400);
    assert.equal((await t.request("GET", "/api/v1/models/rollouts/not-a-rollout", { cookie: admin })).status, 400);
    const unknown = `/api/v1/models/rollouts/${crypto.randomUUID()}`;
    assert.equal((await t.request("GET", unknown, { cookie: admin })).status, 404);

    // Access: a user sees the instance's effective view only when assigned, and changes nothing.
    const userId = await t.createUser(admin, "user1");
    const user = await t.login("user1", "user1-password-1");
    assert.equal((await t.request("GET", ip, { cookie: user })).status, 403);
    assert.equal(
      (await t.request("PUT", `/api/v1/users/${userId}/instances`, {
        cookie: admin,
        body: { instance_ids: [inst.id] },
      }))
        .status,
      200,
    );
    const seen = await t.request("GET", ip, { cookie: user });
    assert.equal(seen.status, 200);
    assert.ok(!(await seen.text()).includes("own-key-9876"));
    assert.equal((await put(ip, { primary: null }, user)).status, 403);
    assert.equal((await t.request("GET", "/api/v1/models", { cookie: user })).status, 403);
    assert.equal((await put("/api/v1/models", { primary: null }, user)).status, 403);

    // A custom provider removed takes its keys with it, global and per instance; removing a key of a
    // provider that no longer exists is allowed (nothing to do).
    const gone = await (await put("/api/v1/models", { custom_providers: [] })).json();
    assert.deepEqual(gone.keys, []);
    assert.deepEqual(await t.services.models.keys(inst.id), {});
    assert.equal((await put("/api/v1/models", { keys: { fake: null } })).status, 200);

    // An instance's keys and choice go with it.
    t.services.instances.delete(inst.id);
    assert.equal(
      t.services.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM provider_keys WHERE instance_id = ?", inst.id)?.n,
      0,
    );
  } finally {
    await t.close();
  }
});
