import assert from "node:assert/strict";
import { ADMIN, sessionCookie, testApp } from "../_helpers/harness.ts";

Deno.test("first-run setup creates the admin once, signs in, then answers 409", async () => {
  const t = await testApp();
  try {
    assert.deepEqual(await (await t.request("GET", "/api/v1/auth/setup-required")).json(), { setup_required: true });
    const res = await t.request("POST", "/api/v1/auth/setup", { body: ADMIN });
    assert.equal(res.status, 201);
    assert.deepEqual(await res.json(), { id: 1, username: "admin", role: "admin" });
    const cookie = sessionCookie(res);
    const me = await t.request("GET", "/api/v1/auth/me", { cookie });
    assert.deepEqual(await me.json(), { id: 1, username: "admin", role: "admin" });
    assert.deepEqual(await (await t.request("GET", "/api/v1/auth/setup-required")).json(), { setup_required: false });
    const again = await t.request("POST", "/api/v1/auth/setup", {
      body: { username: "evil", password: "evil-password-1" },
    });
    assert.equal(again.status, 409);
    assert.equal((await again.json()).code, "SETUP_DONE");
    assert.equal(t.services.users.count(), 1);
    const actions = t.services.audit.query({ limit: 10, offset: 0 }).entries.map((e) => e.action);
    assert.ok(actions.includes("auth.setup"));
  } finally {
    await t.close();
  }
});

Deno.test("setup validates the body and names the bad field", async () => {
  const t = await testApp();
  try {
    const short = await t.request("POST", "/api/v1/auth/setup", { body: { username: "admin", password: "short" } });
    assert.equal(short.status, 400);
    const body = await short.json();
    assert.equal(body.code, "VALIDATION_FAILED");
    assert.match(body.detail, /password/);
    const wrongType = await t.request("POST", "/api/v1/auth/setup", {
      body: { username: 42, password: "long-enough-password" },
    });
    assert.equal(wrongType.status, 400);
    assert.match((await wrongType.json()).detail, /username/);
    assert.equal(t.services.users.count(), 0);
  } finally {
    await t.close();
  }
});

Deno.test("login sets a strict HttpOnly cookie; wrong password and unknown user get the same 401", async () => {
  const t = await testApp();
  try {
    await t.setupAdmin();
    const ok = await t.request("POST", "/api/v1/auth/login", { body: ADMIN });
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { id: 1, username: "admin", role: "admin" });
    const cookie = ok.headers.getSetCookie().find((c) => c.startsWith("claworc_session="))!;
    assert.match(cookie, /HttpOnly/i);
    assert.match(cookie, /SameSite=Strict/i);
    assert.doesNotMatch(cookie, /Secure/i, "plain http public URL: no Secure flag");
    const wrong = await t.request("POST", "/api/v1/auth/login", {
      body: { username: "admin", password: "nope-nope-nope" },
    });
    const unknown = await t.request("POST", "/api/v1/auth/login", {
      body: { username: "ghost", password: "nope-nope-nope" },
    });
    assert.equal(wrong.status, 401);
    assert.equal(unknown.status, 401);
    assert.deepEqual(await wrong.json(), await unknown.json());
    const failures = t.services.audit.query({ action: "auth.login", outcome: "failure", limit: 10, offset: 0 });
    assert.equal(failures.total, 2);
  } finally {
    await t.close();
  }
});

Deno.test("the cookie is Secure when the public URL is https", async () => {
  const t = await testApp({ CLAWORC_PUBLIC_URL: "https://claworc.example" });
  try {
    const res = await t.request("POST", "/api/v1/auth/setup", { body: ADMIN, origin: "https://claworc.example" });
    assert.equal(res.status, 201);
    assert.match(res.headers.getSetCookie()[0], /Secure/);
  } finally {
    await t.close();
  }
});

Deno.test("logout ends the session server-side", async () => {
  const t = await testApp();
  try {
    const cookie = await t.setupAdmin();
    const out = await t.request("POST", "/api/v1/auth/logout", { cookie });
    assert.equal(out.status, 200);
    assert.equal((await t.request("GET", "/api/v1/auth/me", { cookie })).status, 401);
  } finally {
    await t.close();
  }
});

Deno.test("sessions expire after the idle time and after the absolute lifetime", async () => {
  const t = await testApp({ CLAWORC_SESSION_IDLE_MINUTES: "30", CLAWORC_SESSION_MAX_HOURS: "2" });
  try {
    const cookie = await t.setupAdmin();
    t.clock.advance(29 * 60_000);
    assert.equal(
      (await t.request("GET", "/api/v1/auth/me", { cookie })).status,
      200,
      "activity within the idle window",
    );
    t.clock.advance(31 * 60_000);
    assert.equal((await t.request("GET", "/api/v1/auth/me", { cookie })).status, 401, "idle for 31 minutes");
    const fresh = await t.login(ADMIN.username, ADMIN.password);
    for (let i = 0; i < 4; i++) {
      t.clock.advance(25 * 60_000);
      assert.equal((await t.request("GET", "/api/v1/auth/me", { cookie: fresh })).status, 200);
    }
    t.clock.advance(21 * 60_000);
    assert.equal(
      (await t.request("GET", "/api/v1/auth/me", { cookie: fresh })).status,
      401,
      "past 2 h absolute, though active",
    );
  } finally {
    await t.close();
  }
});

Deno.test("repeated failed logins are throttled per username with Retry-After, and audited", async () => {
  const t = await testApp();
  try {
    await t.setupAdmin();
    const bad = { username: "admin", password: "wrong-password-x" };
    for (let i = 0; i < 5; i++) {
      assert.equal((await t.request("POST", "/api/v1/auth/login", { body: bad })).status, 401);
    }
    assert.equal(
      (await t.request("POST", "/api/v1/auth/login", { body: bad })).status,
      401,
      "6th failure sets the delay",
    );
    const limited = await t.request("POST", "/api/v1/auth/login", { body: ADMIN });
    assert.equal(limited.status, 429, "even the right password waits");
    assert.equal((await limited.json()).code, "RATE_LIMITED");
    assert.ok(Number(limited.headers.get("retry-after")) >= 1);
    t.clock.advance(3_000);
    assert.equal((await t.request("POST", "/api/v1/auth/login", { body: ADMIN })).status, 200, "after the delay");
    const denied = t.services.audit.query({ action: "auth.login", outcome: "denied", limit: 10, offset: 0 });
    assert.equal(denied.total, 1);
  } finally {
    await t.close();
  }
});

Deno.test("many failures from one IP across usernames are throttled per IP", async () => {
  const t = await testApp();
  try {
    await t.setupAdmin();
    for (let i = 0; i < 21; i++) {
      await t.request("POST", "/api/v1/auth/login", {
        body: { username: `u${i}`, password: "whatever-pass" },
        ip: "198.51.100.7",
      });
    }
    const fromAttacker = await t.request("POST", "/api/v1/auth/login", { body: ADMIN, ip: "198.51.100.7" });
    assert.equal(fromAttacker.status, 429);
    const fromElsewhere = await t.request("POST", "/api/v1/auth/login", { body: ADMIN, ip: "203.0.113.9" });
    assert.equal(fromElsewhere.status, 200);
  } finally {
    await t.close();
  }
});

Deno.test("change password needs the current one, keeps this session and ends the others", async () => {
  const t = await testApp();
  try {
    const mine = await t.setupAdmin();
    const other = await t.login(ADMIN.username, ADMIN.password);
    const wrong = await t.request("POST", "/api/v1/auth/change-password", {
      cookie: mine,
      body: { current_password: "not-it-at-all", new_password: "brand-new-password" },
    });
    assert.equal(wrong.status, 401);
    const ok = await t.request("POST", "/api/v1/auth/change-password", {
      cookie: mine,
      body: { current_password: ADMIN.password, new_password: "brand-new-password" },
    });
    assert.equal(ok.status, 200);
    assert.equal((await t.request("GET", "/api/v1/auth/me", { cookie: mine })).status, 200);
    assert.equal((await t.request("GET", "/api/v1/auth/me", { cookie: other })).status, 401);
    await t.login("admin", "brand-new-password");
    const audit = t.services.audit.query({ action: "auth.password_change", limit: 5, offset: 0 });
    assert.deepEqual(audit.entries.map((e) => e.outcome).sort(), ["failure", "success"]);
    assert.ok(!JSON.stringify(audit.entries).includes("brand-new-password"), "no secret in the audit log");
  } finally {
    await t.close();
  }
});
