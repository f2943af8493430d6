import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { ADMIN, ORIGIN, sessionCookie, type TestApp, testApp } from "../_helpers/harness.ts";

/**
 * Session security end to end: fixation, expiry, sign-out (one and everywhere), privilege changes
 * taking effect on the very next request, password changes ending the right sessions, sign-in
 * throttling that cannot be dodged, and session tokens that never travel anywhere but the cookie.
 */

const ALICE = { username: "alice", password: "alice-password-1" };
const BOB = { username: "bob", password: "bob-password-1" };

const tokenOf = (cookie: string) => cookie.slice(cookie.indexOf("=") + 1);
const hashOf = (token: string) => createHash("sha256").update(token).digest("hex");

async function status(t: TestApp, method: string, path: string, cookie?: string, body?: unknown): Promise<number> {
  const res = await t.request(method, path, { cookie, body });
  await res.body?.cancel();
  return res.status;
}

/** Who a cookie signs in as, or null when it signs in no one. */
async function whoAmI(t: TestApp, cookie: string): Promise<string | null> {
  const res = await t.request("GET", "/api/v1/auth/me", { cookie });
  if (res.status === 401) {
    assert.equal((await res.json()).code, "UNAUTHENTICATED");
    return null;
  }
  assert.equal(res.status, 200);
  return (await res.json()).username;
}

function sessionRows(t: TestApp, userId?: number): number {
  const row = userId === undefined
    ? t.services.db.get<{ n: number }>("SELECT count(*) AS n FROM sessions")
    : t.services.db.get<{ n: number }>("SELECT count(*) AS n FROM sessions WHERE user_id = ?", userId);
  return row!.n;
}

/** The app refuses `cookie` everywhere: API (401), pages (to the sign-in page), state changes, WebSockets. */
async function assertRefusedEverywhere(t: TestApp, cookie: string, what: string): Promise<void> {
  assert.equal(await whoAmI(t, cookie), null, `${what}: /me`);
  const page = await t.request("GET", "/users", { cookie });
  assert.equal(page.status, 302, `${what}: page`);
  assert.equal(page.headers.get("location"), "/login?next=%2Fusers", `${what}: page redirect`);
  const create = await t.request("POST", "/api/v1/users", {
    cookie,
    body: { username: "ghost", password: "ghost-password-1" },
  });
  assert.equal(create.status, 401, `${what}: state change`);
  await create.body?.cancel();
  const ws = t.registry.routes.find((r) => r.kind === "websocket");
  if (ws) {
    const res = await t.request("GET", ws.path.replace(/:\w+/g, "1"), {
      cookie,
      headers: { upgrade: "websocket", origin: ORIGIN, "sec-websocket-key": "x", connection: "Upgrade" },
    });
    assert.equal(res.status, 401, `${what}: WebSocket ${ws.path}`);
    await res.body?.cancel();
  }
}

Deno.test("session fixation: a cookie planted before sign-in is replaced, and never signs anyone in", async () => {
  const t = await testApp();
  try {
    // First-run setup with a planted cookie.
    const planted = `claworc_session=${"A".repeat(43)}`;
    const setup = await t.request("POST", "/api/v1/auth/setup", { body: ADMIN, cookie: planted });
    assert.equal(setup.status, 201);
    const admin = sessionCookie(setup);
    assert.notEqual(tokenOf(admin), tokenOf(planted));
    assert.equal(await whoAmI(t, planted), null);
    await t.createUser(admin, ALICE.username, "user", ALICE.password);
    const aliceId = t.services.users.list().find((u) => u.username === ALICE.username)!.id;

    // A made-up token the attacker hopes the victim's sign-in will adopt.
    const forged = `claworc_session=${"f".repeat(43)}`;
    const login = await t.request("POST", "/api/v1/auth/login", { body: ALICE, cookie: forged });
    assert.equal(login.status, 200);
    const alice = sessionCookie(login);
    assert.notEqual(tokenOf(alice), tokenOf(forged), "a fresh token, not the one sent");
    assert.equal(await whoAmI(t, forged), null, "the forged token signs in no one");
    assert.equal(await whoAmI(t, alice), "alice");
    assert.equal(
      t.services.db.get("SELECT 1 AS x FROM sessions WHERE token_hash = ?", hashOf(tokenOf(forged))),
      undefined,
    );

    // The attacker's own valid session planted in the victim's browser: the victim's sign-in gets a
    // new token, and the planted one stays the attacker's (it never turns into the victim's).
    await t.createUser(admin, BOB.username, "user", BOB.password);
    const mallory = await t.login(BOB.username, BOB.password);
    const victim = await t.request("POST", "/api/v1/auth/login", { body: ALICE, cookie: mallory });
    assert.equal(victim.status, 200);
    const victimCookie = sessionCookie(victim);
    assert.notEqual(tokenOf(victimCookie), tokenOf(mallory));
    assert.equal(await whoAmI(t, mallory), "bob");
    assert.equal(await whoAmI(t, victimCookie), "alice");

    // Every sign-in makes a new token, even from a browser already signed in as the same person.
    const again = await t.request("POST", "/api/v1/auth/login", { body: ALICE, cookie: alice });
    assert.notEqual(tokenOf(sessionCookie(again)), tokenOf(alice));
    const tokens = [admin, alice, victimCookie, sessionCookie(again)].map(tokenOf);
    assert.equal(new Set(tokens).size, tokens.length);
    for (const token of tokens) assert.match(token, /^[A-Za-z0-9_-]{43,}$/, "256 bits, url-safe");
    assert.equal(sessionRows(t, aliceId), 3);
  } finally {
    await t.close();
  }
});

Deno.test("idle and absolute expiry end a session everywhere and remove it server-side", async () => {
  const t = await testApp({ CLAWORC_SESSION_IDLE_MINUTES: "10", CLAWORC_SESSION_MAX_HOURS: "1" });
  try {
    const admin = await t.setupAdmin();
    const minute = 60_000;
    // Idle: activity every 9 minutes keeps it; 10 minutes and a second of silence end it.
    for (let i = 0; i < 3; i++) {
      t.clock.advance(9 * minute);
      assert.equal(await whoAmI(t, admin), "admin", `active at ${9 * (i + 1)} min`);
    }
    t.clock.advance(10 * minute + 1_000);
    assert.equal(sessionRows(t, 1), 1, "the row is there until the session is used or purged");
    await assertRefusedEverywhere(t, admin, "idle");
    assert.equal(sessionRows(t, 1), 0, "the expired session was deleted");
    // Going back in time does not revive it (it is gone, not just refused).
    t.clock.advance(-20 * minute);
    assert.equal(await whoAmI(t, admin), null);
    t.clock.advance(20 * minute);

    // Absolute: active every 5 minutes, still over after one hour.
    const fresh = await t.login(ADMIN.username, ADMIN.password);
    for (let elapsed = 5; elapsed <= 55; elapsed += 5) {
      t.clock.advance(5 * minute);
      assert.equal(await whoAmI(t, fresh), "admin", `active at ${elapsed} min`);
    }
    t.clock.advance(5 * minute + 1_000);
    await assertRefusedEverywhere(t, fresh, "absolute");
    assert.equal(sessionRows(t, 1), 0);

    // A session that was never used expires too; the hourly purge removes it without a request.
    const unused = await t.login(ADMIN.username, ADMIN.password);
    t.clock.advance(10 * minute + 1_000);
    assert.equal(t.services.sessions.purgeExpired(), 1);
    assert.equal(await whoAmI(t, unused), null);
    // And a new sign-in still works.
    assert.equal(await whoAmI(t, await t.login(ADMIN.username, ADMIN.password)), "admin");
  } finally {
    await t.close();
  }
});

Deno.test("signing out ends that session server-side (API and form); a replayed cookie is refused everywhere", async () => {
  const t = await testApp();
  try {
    const first = await t.setupAdmin();
    const second = await t.login(ADMIN.username, ADMIN.password);
    const third = await t.login(ADMIN.username, ADMIN.password);
    assert.equal(sessionRows(t, 1), 3);

    const out = await t.request("POST", "/api/v1/auth/logout", { cookie: first });
    assert.equal(out.status, 200);
    assert.equal(sessionRows(t, 1), 2, "exactly that session ended");
    await assertRefusedEverywhere(t, first, "after API logout");
    assert.equal(await status(t, "POST", "/api/v1/auth/logout", first), 401, "signing out again needs a session");

    const form = await t.request("POST", "/logout", { cookie: second });
    assert.equal(form.status, 303);
    assert.equal(form.headers.get("location"), "/login");
    await assertRefusedEverywhere(t, second, "after form logout");

    // The other session of the same person is untouched.
    assert.equal(await whoAmI(t, third), "admin");
    assert.equal(sessionRows(t, 1), 1);
    const actions = t.services.audit.query({ action: "auth.logout", limit: 10, offset: 0 });
    assert.equal(actions.total, 2);
  } finally {
    await t.close();
  }
});

Deno.test("logout-everywhere ends all of the caller's sessions, this one too, clears the cookie, and is audited", async () => {
  const t = await testApp();
  try {
    const admin = await t.setupAdmin();
    const aliceId = await t.createUser(admin, ALICE.username, "user", ALICE.password);
    const alice = await t.login(ALICE.username, ALICE.password);
    const phone = await t.login(ADMIN.username, ADMIN.password);
    const laptop = await t.login(ADMIN.username, ADMIN.password);
    assert.equal(sessionRows(t, 1), 3);

    assert.equal(await status(t, "POST", "/api/v1/auth/logout-everywhere"), 401, "needs a session");
    const res = await t.request("POST", "/api/v1/auth/logout-everywhere", { cookie: phone });
    assert.equal(res.status, 200, await res.clone().text());
    assert.deepEqual(await res.json(), { status: "ok", ended: 3 });
    const set = res.headers.getSetCookie();
    assert.equal(set.length, 1, "the cookie is cleared");
    assert.match(set[0], /^claworc_session=;/);
    assert.match(set[0], /Max-Age=0/i);

    for (const [name, cookie] of [["setup", admin], ["phone (the caller)", phone], ["laptop", laptop]]) {
      await assertRefusedEverywhere(t, cookie, name);
    }
    assert.equal(sessionRows(t, 1), 0);
    assert.equal(await whoAmI(t, alice), "alice", "someone else's session is untouched");
    assert.equal(sessionRows(t, aliceId), 1);

    const audit = t.services.audit.query({ action: "auth.logout_everywhere", limit: 10, offset: 0 });
    assert.equal(audit.total, 1);
    assert.equal(audit.entries[0].actor, "admin");
    assert.equal(audit.entries[0].target, "admin");
    assert.equal(audit.entries[0].outcome, "success");
    assert.ok(!JSON.stringify(audit.entries).includes(tokenOf(phone)), "no token in the audit log");
    // Signing in again works as usual.
    assert.equal(await whoAmI(t, await t.login(ADMIN.username, ADMIN.password)), "admin");
  } finally {
    await t.close();
  }
});

Deno.test("a role change counts on the very next request; a deleted user's sessions end at once", async () => {
  const t = await testApp();
  try {
    const admin = await t.setupAdmin();
    const bobId = await t.createUser(admin, BOB.username, "admin", BOB.password);
    let bob = await t.login(BOB.username, BOB.password);
    assert.equal(await status(t, "GET", "/api/v1/users", bob), 200);

    // The role is read on every request, not kept with the session: changed underneath a live
    // session, the next request already sees it, with no sign-in in between.
    t.services.users.setRole(bobId, "user");
    assert.equal(await status(t, "GET", "/api/v1/users", bob), 403);
    assert.equal(await status(t, "GET", "/settings", bob), 403, "admin page");
    assert.equal(await status(t, "PUT", "/api/v1/settings", bob, { audit_retention_days: 1 }), 403);
    assert.equal(await whoAmI(t, bob), "bob", "still signed in, as a user");
    t.services.users.setRole(bobId, "admin");
    assert.equal(await status(t, "GET", "/api/v1/users", bob), 200, "promotion counts at once too");

    // Through the API, an admin demoting a signed-in admin: the demoted sessions cannot reach an admin
    // route on their very next request. The route also ends the user's sessions ("Change a user's
    // role (ends their sessions)"), so that request is 401, not 403; a new sign-in gets the new role.
    const other = await t.login(BOB.username, BOB.password);
    const demote = await t.request("PUT", `/api/v1/users/${bobId}/role`, { cookie: admin, body: { role: "user" } });
    assert.equal(demote.status, 200);
    await demote.body?.cancel();
    for (const cookie of [bob, other]) {
      assert.equal(await status(t, "GET", "/api/v1/users", cookie), 401, "demoted admin's next request");
      assert.equal(await status(t, "POST", "/api/v1/users", cookie, ALICE), 401);
    }
    assert.equal(sessionRows(t, bobId), 0);
    bob = await t.login(BOB.username, BOB.password);
    assert.equal(await status(t, "GET", "/api/v1/users", bob), 403);
    assert.equal((await (await t.request("GET", "/api/v1/auth/me", { cookie: bob })).json()).role, "user");

    // Deleting a user ends every session of theirs at once.
    const second = await t.login(BOB.username, BOB.password);
    assert.equal(sessionRows(t, bobId), 2);
    assert.equal(await status(t, "DELETE", `/api/v1/users/${bobId}`, admin), 204);
    await assertRefusedEverywhere(t, bob, "deleted user");
    await assertRefusedEverywhere(t, second, "deleted user, second session");
    assert.equal(sessionRows(t, bobId), 0);
    // A new account with the same name does not inherit the old sessions.
    await t.createUser(admin, BOB.username, "admin", BOB.password);
    assert.equal(await whoAmI(t, bob), null);
    assert.equal(await whoAmI(t, admin), "admin");
  } finally {
    await t.close();
  }
});

Deno.test("an admin's password reset ends all of that user's sessions and no one else's", async () => {
  const t = await testApp();
  try {
    const admin = await t.setupAdmin();
    const adminLaptop = await t.login(ADMIN.username, ADMIN.password);
    const aliceId = await t.createUser(admin, ALICE.username, "user", ALICE.password);
    await t.createUser(admin, BOB.username, "user", BOB.password);
    const aliceA = await t.login(ALICE.username, ALICE.password);
    const aliceB = await t.login(ALICE.username, ALICE.password);
    const bob = await t.login(BOB.username, BOB.password);

    const res = await t.request("POST", `/api/v1/users/${aliceId}/reset-password`, {
      cookie: admin,
      body: { password: "alice-new-password-2" },
    });
    assert.equal(res.status, 200);
    await res.body?.cancel();
    await assertRefusedEverywhere(t, aliceA, "alice's first session");
    await assertRefusedEverywhere(t, aliceB, "alice's second session");
    assert.equal(sessionRows(t, aliceId), 0);
    assert.equal(await whoAmI(t, bob), "bob");
    assert.equal(await whoAmI(t, adminLaptop), "admin");
    const entry = t.services.audit.query({ action: "user.password_reset", limit: 1, offset: 0 }).entries[0];
    assert.equal((entry.details as { sessions_ended: number }).sessions_ended, 2);

    // An admin resetting their own password keeps the session they did it from, ends their others.
    const own = await t.request("POST", "/api/v1/users/1/reset-password", {
      cookie: admin,
      body: { password: "admin-new-password-2" },
    });
    assert.equal(own.status, 200);
    await own.body?.cancel();
    assert.equal(await whoAmI(t, admin), "admin");
    assert.equal(await whoAmI(t, adminLaptop), null);
  } finally {
    await t.close();
  }
});

Deno.test("changing your password keeps this session, ends your others, and guessing the current one is throttled", async () => {
  const t = await testApp();
  try {
    const admin = await t.setupAdmin();
    await t.createUser(admin, ALICE.username, "user", ALICE.password);
    const alice = await t.login(ALICE.username, ALICE.password);
    const aliceOther = await t.login(ALICE.username, ALICE.password);
    const adminOther = await t.login(ADMIN.username, ADMIN.password);

    const ok = await t.request("POST", "/api/v1/auth/change-password", {
      cookie: alice,
      body: { current_password: ALICE.password, new_password: "alice-new-password-2" },
    });
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    assert.equal(ok.headers.getSetCookie().length, 0, "the current cookie stays as it is");
    assert.equal(await whoAmI(t, alice), "alice");
    await assertRefusedEverywhere(t, aliceOther, "alice's other session");
    assert.equal(await whoAmI(t, adminOther), "admin", "another person's session is untouched");
    assert.equal(await whoAmI(t, admin), "admin");

    // Someone holding a stolen session cannot brute-force the current password through this route.
    const guess = (current: string) =>
      t.request("POST", "/api/v1/auth/change-password", {
        cookie: alice,
        body: { current_password: current, new_password: "mallory-password-9" },
      });
    for (let i = 0; i < 6; i++) {
      const res = await guess(`guess-number-${i}`);
      assert.equal(res.status, 401, `guess ${i}`);
      await res.body?.cancel();
    }
    const right = await guess("alice-new-password-2");
    assert.equal(right.status, 429, "the right current password is refused while throttled");
    assert.equal((await right.json()).code, "RATE_LIMITED");
    assert.equal(await whoAmI(t, alice), "alice", "a refused change ends nothing");
    await t.login(ALICE.username, "alice-new-password-2").then(
      () => assert.fail("sign-in for a throttled username must wait"),
      (e) => assert.match(String(e), /429/),
    );
  } finally {
    await t.close();
  }
});

async function attempt(t: TestApp, username: string, password: string, ip: string, headers = {}) {
  const res = await t.request("POST", "/api/v1/auth/login", { body: { username, password }, ip, headers });
  const body = await res.json();
  return { status: res.status, code: body.code as string | undefined, res };
}

Deno.test("sign-in throttling per username cannot be dodged by changing IP, case or spacing; the wait is honest", async () => {
  const t = await testApp();
  try {
    await t.setupAdmin();
    const sessionsBefore = sessionRows(t);
    const variants = ["admin", "ADMIN", " Admin", "aDmIn ", "admin", "Admin"];
    for (const [i, name] of variants.entries()) {
      const r = await attempt(t, name, "not-the-password", `198.51.100.${i + 1}`);
      assert.equal(r.status, 401, `failure ${i + 1} (${JSON.stringify(name)})`);
    }
    // From yet another address, with the right password: still refused, no session, no cookie.
    const refused = await attempt(t, "admin", ADMIN.password, "203.0.113.50");
    assert.equal(refused.status, 429);
    assert.equal(refused.code, "RATE_LIMITED");
    assert.equal(refused.res.headers.getSetCookie().length, 0);
    assert.equal(sessionRows(t), sessionsBefore);
    const retryAfter = Number(refused.res.headers.get("retry-after"));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `Retry-After ${retryAfter}`);

    // While throttled, passwords are not even checked: a wrong one gets 429 too, and is not a failure.
    const failuresBefore = t.services.audit.query({ action: "auth.login", outcome: "failure", limit: 1, offset: 0 })
      .total;
    assert.equal((await attempt(t, "admin", "another-wrong-one", "203.0.113.51")).status, 429);
    assert.equal(
      t.services.audit.query({ action: "auth.login", outcome: "failure", limit: 1, offset: 0 }).total,
      failuresBefore,
    );

    // Just before the announced time: still waiting. Once it has passed: the right password works.
    t.clock.advance(retryAfter * 1000 - 500);
    assert.equal((await attempt(t, "admin", ADMIN.password, "203.0.113.52")).status, 429);
    t.clock.advance(500);
    const ok = await attempt(t, "admin", ADMIN.password, "203.0.113.53");
    assert.equal(ok.status, 200);
    assert.equal(sessionRows(t), sessionsBefore + 1);

    // Another username is not held back by this one's failures.
    await t.createUser(sessionCookie(ok.res), ALICE.username, "user", ALICE.password);
    for (let i = 0; i < 6; i++) await attempt(t, "admin", "not-the-password", "198.51.100.99");
    assert.equal((await attempt(t, "admin", ADMIN.password, "203.0.113.60")).status, 429);
    assert.equal((await attempt(t, ALICE.username, ALICE.password, "203.0.113.60")).status, 200);

    // Failing on after the wait makes the next wait longer, never shorter.
    const second = Number((await attempt(t, "admin", ADMIN.password, "203.0.113.61")).res.headers.get("retry-after"));
    t.clock.advance(second * 1000);
    assert.equal((await attempt(t, "admin", "still-not-it", "203.0.113.62")).status, 401);
    const third = Number((await attempt(t, "admin", ADMIN.password, "203.0.113.63")).res.headers.get("retry-after"));
    assert.ok(third > second, `waits grow: ${second} s then ${third} s`);
  } finally {
    await t.close();
  }
});

Deno.test("sign-in throttling per IP: X-Forwarded-For from an untrusted client does not reset it; it ends after the wait", async () => {
  const t = await testApp();
  try {
    await t.setupAdmin();
    const attacker = "198.51.100.7";
    let last: Awaited<ReturnType<typeof attempt>> | undefined;
    for (let i = 0; i < 25; i++) {
      // Different usernames (so the per-username limit never applies) and a forged, changing XFF.
      last = await attempt(t, `user${i}`, "whatever-pass", attacker, { "x-forwarded-for": `203.0.113.${i}` });
      if (last.status === 429) break;
    }
    assert.equal(last?.status, 429, "the address is throttled");
    const refused = await attempt(t, "admin", ADMIN.password, attacker, { "x-forwarded-for": "192.0.2.200" });
    assert.equal(refused.status, 429, "the right password from the throttled address");
    assert.equal(refused.code, "RATE_LIMITED");
    const retryAfter = Number(refused.res.headers.get("retry-after"));
    assert.ok(retryAfter >= 1);
    assert.equal((await attempt(t, "admin", ADMIN.password, "203.0.113.200")).status, 200, "another address");
    t.clock.advance(retryAfter * 1000);
    assert.equal((await attempt(t, "admin", ADMIN.password, attacker)).status, 200, "after the wait");
  } finally {
    await t.close();
  }
});

Deno.test("the session token travels only in Set-Cookie: never in a URL, a redirect, a body, the log or the database", async () => {
  const t = await testApp();
  try {
    const setup = await t.request("POST", "/api/v1/auth/setup", { body: ADMIN });
    const setupToken = tokenOf(sessionCookie(setup));
    assert.ok(!(await setup.text()).includes(setupToken), "setup answer body");
    const login = await t.request("POST", "/api/v1/auth/login", { body: ADMIN });
    const cookie = sessionCookie(login);
    const token = tokenOf(cookie);
    assert.ok(!(await login.text()).includes(token), "login answer body");
    t.services.instances.insert("bot-a", "A");

    const leaks: string[] = [];
    const check = async (res: Response, what: string) => {
      for (const [name, value] of res.headers) {
        if (name !== "set-cookie" && (value.includes(token) || value.includes(setupToken))) {
          leaks.push(`${what}: header ${name}`);
        }
      }
      const location = res.headers.get("location");
      if (location && /claworc_session|token/i.test(location)) leaks.push(`${what}: Location ${location}`);
      const type = res.headers.get("content-type") ?? "";
      if (type.startsWith("text/event-stream") || res.status === 101) {
        await res.body?.cancel();
        return;
      }
      const text = await res.text();
      if (text.includes(token) || text.includes(setupToken)) leaks.push(`${what}: body`);
    };
    // Every GET route as the signed-in admin (pages, API, the WebSocket routes without an upgrade).
    let cells = 0;
    for (const route of t.registry.routes.filter((r) => r.method === "GET")) {
      const url = route.path.replace(/:tab\b/, "terminal").replace(/:\w+/g, "1").replace(/\*$/, "app.css");
      await check(await t.request("GET", url, { cookie }), `GET ${url}`);
      cells++;
    }
    // Redirects a signed-in or signed-out browser meets.
    for (const path of ["/login?next=%2Fusers", "/setup", "/instances/1", "/users"]) {
      const res = await t.request("GET", path, { cookie });
      await check(res, `GET ${path} (signed in)`);
    }
    const signedOut = await t.request("GET", "/users", { cookie: `claworc_session=${token}x` });
    assert.equal(signedOut.status, 302);
    await check(signedOut, "GET /users with a bad cookie");
    const other = await t.login(ADMIN.username, ADMIN.password);
    const form = await t.request("POST", "/logout", { cookie: other });
    assert.equal(form.status, 303);
    await check(form, "POST /logout");
    assert.deepEqual(leaks, []);
    assert.ok(cells > 10);

    // Only a hash of each token is stored; neither the audit log nor any table holds a token.
    const tables = t.services.db.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'");
    for (const { name } of tables) {
      const dump = JSON.stringify(t.services.db.all(`SELECT * FROM "${name}"`));
      assert.ok(!dump.includes(token) && !dump.includes(setupToken), `table ${name} holds a session token`);
    }
    assert.ok(t.services.db.get("SELECT 1 AS x FROM sessions WHERE token_hash = ?", hashOf(token)));
  } finally {
    await t.close();
  }
});
