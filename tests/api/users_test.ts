import assert from "node:assert/strict";
import { ADMIN, testApp } from "../_helpers/harness.ts";

Deno.test("admins create, list and delete users; duplicates are refused", async () => {
  const t = await testApp();
  try {
    const admin = await t.setupAdmin();
    const created = await t.request("POST", "/api/v1/users", {
      cookie: admin,
      body: { username: "alice", password: "alice-password-1" },
    });
    assert.equal(created.status, 201);
    const alice = await created.json();
    assert.deepEqual(alice, { id: 2, username: "alice", role: "user" });
    const dup = await t.request("POST", "/api/v1/users", {
      cookie: admin,
      body: { username: "ALICE", password: "alice-password-1" },
    });
    assert.equal(dup.status, 409);
    assert.equal((await dup.json()).code, "USERNAME_TAKEN");
    const list = await (await t.request("GET", "/api/v1/users", { cookie: admin })).json();
    assert.deepEqual(list.map((u: { username: string }) => u.username), ["admin", "alice"]);
    assert.ok(!JSON.stringify(list).includes("password"), "hashes never leave the server");
    const aliceCookie = await t.login("alice", "alice-password-1");
    assert.equal((await t.request("DELETE", "/api/v1/users/2", { cookie: admin })).status, 204);
    assert.equal(
      (await t.request("GET", "/api/v1/auth/me", { cookie: aliceCookie })).status,
      401,
      "deletion ends sessions",
    );
    assert.equal((await t.request("DELETE", "/api/v1/users/2", { cookie: admin })).status, 404);
    const actions = t.services.audit.query({ limit: 50, offset: 0 }).entries.map((e) => e.action);
    assert.ok(actions.includes("user.create") && actions.includes("user.delete"));
  } finally {
    await t.close();
  }
});

Deno.test("admins cannot delete or demote themselves, nor remove the last admin", async () => {
  const t = await testApp();
  try {
    const admin = await t.setupAdmin();
    const self = await t.request("DELETE", "/api/v1/users/1", { cookie: admin });
    assert.equal(self.status, 409);
    assert.equal((await self.json()).code, "SELF_ACTION");
    const demote = await t.request("PUT", "/api/v1/users/1/role", { cookie: admin, body: { role: "user" } });
    assert.equal(demote.status, 409);
    const bob = await t.createUser(admin, "bob", "admin");
    const bobCookie = await t.login("bob", "bob-password-1");
    assert.equal(
      (await t.request("PUT", "/api/v1/users/1/role", { cookie: bobCookie, body: { role: "user" } })).status,
      200,
    );
    const last = await t.request("DELETE", `/api/v1/users/${bob}`, { cookie: bobCookie });
    assert.equal(last.status, 409, "bob may not delete himself");
    assert.equal(t.services.users.adminCount(), 1);
    assert.throws(() => t.services.users.setRole(bob, "user"), /last admin/);
  } finally {
    await t.close();
  }
});

Deno.test("a role change ends the user's sessions and takes effect at once", async () => {
  const t = await testApp();
  try {
    const admin = await t.setupAdmin();
    const carol = await t.createUser(admin, "carol");
    const carolCookie = await t.login("carol", "carol-password-1");
    assert.equal((await t.request("GET", "/api/v1/users", { cookie: carolCookie })).status, 403);
    const res = await t.request("PUT", `/api/v1/users/${carol}/role`, { cookie: admin, body: { role: "admin" } });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).role, "admin");
    assert.equal((await t.request("GET", "/api/v1/auth/me", { cookie: carolCookie })).status, 401);
    const again = await t.login("carol", "carol-password-1");
    assert.equal((await t.request("GET", "/api/v1/users", { cookie: again })).status, 200);
    const entry = t.services.audit.query({ action: "user.role_change", limit: 1, offset: 0 }).entries[0];
    assert.deepEqual(entry.details, { user_id: carol, from: "user", to: "admin" });
    assert.equal(entry.actor, "admin");
  } finally {
    await t.close();
  }
});

Deno.test("assignments decide which instances a user sees; unknown ids are refused atomically", async () => {
  const t = await testApp();
  try {
    const admin = await t.setupAdmin();
    const a = t.services.instances.insert("bot-a", "A");
    const b = t.services.instances.insert("bot-b", "B");
    const dave = await t.createUser(admin, "dave");
    const daveCookie = await t.login("dave", "dave-password-1");
    assert.deepEqual(await (await t.request("GET", "/api/v1/instances", { cookie: daveCookie })).json(), []);
    const put = await t.request("PUT", `/api/v1/users/${dave}/instances`, {
      cookie: admin,
      body: { instance_ids: [b.id] },
    });
    assert.deepEqual(await put.json(), { instance_ids: [b.id] });
    const seen = await (await t.request("GET", "/api/v1/instances", { cookie: daveCookie })).json();
    assert.deepEqual(seen.map((i: { name: string }) => i.name), ["bot-b"]);
    const all = await (await t.request("GET", "/api/v1/instances", { cookie: admin })).json();
    assert.equal(all.length, 2);
    const bad = await t.request("PUT", `/api/v1/users/${dave}/instances`, {
      cookie: admin,
      body: { instance_ids: [a.id, 999] },
    });
    assert.equal(bad.status, 404);
    assert.deepEqual(await (await t.request("GET", `/api/v1/users/${dave}/instances`, { cookie: admin })).json(), {
      instance_ids: [b.id],
    });
    assert.ok(t.services.users.canAccessInstance({ id: dave, role: "user" }, b.id));
    assert.ok(!t.services.users.canAccessInstance({ id: dave, role: "user" }, a.id));
    assert.equal(t.services.audit.query({ action: "user.assignments_change", limit: 5, offset: 0 }).total, 1);
  } finally {
    await t.close();
  }
});

Deno.test("admin password reset ends the user's sessions and the new password works", async () => {
  const t = await testApp();
  try {
    const admin = await t.setupAdmin();
    const erin = await t.createUser(admin, "erin");
    const erinCookie = await t.login("erin", "erin-password-1");
    const res = await t.request("POST", `/api/v1/users/${erin}/reset-password`, {
      cookie: admin,
      body: { password: "reset-password-9" },
    });
    assert.equal(res.status, 200);
    assert.equal((await t.request("GET", "/api/v1/auth/me", { cookie: erinCookie })).status, 401);
    const old = await t.request("POST", "/api/v1/auth/login", {
      body: { username: "erin", password: "erin-password-1" },
    });
    assert.equal(old.status, 401);
    await t.login("erin", "reset-password-9");
    await t.login(ADMIN.username, ADMIN.password);
  } finally {
    await t.close();
  }
});
