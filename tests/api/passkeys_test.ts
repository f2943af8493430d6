import assert from "node:assert/strict";
import { ADMIN, ORIGIN, sessionCookie, type TestApp, testApp } from "../_helpers/harness.ts";
import { SoftAuthenticator } from "../_helpers/soft_authenticator.ts";
import { CHALLENGE_TTL_MS } from "../../core/auth/passkeys/challenges.ts";

type Json = Record<string, unknown>;
const W = "/api/v1/auth/webauthn";

async function registerPasskey(t: TestApp, cookie: string, auth: SoftAuthenticator, name?: string) {
  const begin = await t.request("POST", `${W}/register/begin`, { cookie });
  assert.equal(begin.status, 200);
  const { challenge_id, options } = await begin.json();
  const response = await auth.create(options);
  const res = await t.request("POST", `${W}/register/finish`, { cookie, body: { challenge_id, response, name } });
  assert.equal(res.status, 201, await res.clone().text());
  return await res.json();
}

async function passkeySignIn(t: TestApp, auth: SoftAuthenticator, username?: string) {
  const begin = await t.request("POST", `${W}/login/begin`, { body: username ? { username } : {} });
  assert.equal(begin.status, 200);
  const { challenge_id, options } = await begin.json();
  return await t.request("POST", `${W}/login/finish`, { body: { challenge_id, response: await auth.get(options) } });
}

const auditOf = (t: TestApp, action: string) => t.services.audit.query({ action, limit: 100, offset: 0 }).entries;

Deno.test("passkeys: register two, list, rename, sign in discoverable and username-first, delete, refused after", async () => {
  const t = await testApp();
  try {
    const admin = await t.setupAdmin();
    const auth = new SoftAuthenticator(ORIGIN);
    const first = await registerPasskey(t, admin, auth, "Laptop");
    const second = await registerPasskey(t, admin, auth);
    assert.equal(first.name, "Laptop");
    assert.match(second.name, /^Passkey \d{4}-\d{2}-\d{2}$/, "default name");
    const list = await (await t.request("GET", `${W}/credentials`, { cookie: admin })).json();
    assert.deepEqual(list.map((p: Json) => p.id), [first.id, second.id]);
    assert.ok(list.every((p: Json) => !("public_key" in p) && typeof p.backed_up === "boolean"));

    // The second registration excluded the first (no duplicate on the same authenticator).
    const again = await (await t.request("POST", `${W}/register/begin`, { cookie: admin })).json();
    assert.deepEqual(again.options.excludeCredentials.map((c: Json) => c.id).sort(), [first.id, second.id].sort());
    assert.equal(again.options.rp.id, "claworc.test");
    assert.equal(again.options.authenticatorSelection.residentKey, "required");

    const renamed = await t.request("PATCH", `${W}/credentials/${second.id}`, {
      cookie: admin,
      body: { name: "Phone" },
    });
    assert.equal(renamed.status, 200);
    assert.equal((await renamed.json()).name, "Phone");

    // Discoverable: no username at all.
    await t.request("POST", "/api/v1/auth/logout", { cookie: admin });
    const signedIn = await passkeySignIn(t, auth);
    assert.equal(signedIn.status, 200, await signedIn.clone().text());
    assert.deepEqual(await signedIn.json(), { id: 1, username: ADMIN.username, role: "admin" });
    const cookie = sessionCookie(signedIn);
    assert.equal((await t.request("GET", "/api/v1/auth/me", { cookie })).status, 200);

    // Username-first: the options list exactly that account's passkeys.
    const begin = await (await t.request("POST", `${W}/login/begin`, { body: { username: "ADMIN" } })).json();
    assert.deepEqual(begin.options.allowCredentials.map((c: Json) => c.id).sort(), [first.id, second.id].sort());
    assert.equal((await passkeySignIn(t, auth, ADMIN.username)).status, 200);
    const used = (await (await t.request("GET", `${W}/credentials`, { cookie })).json()).find((p: Json) =>
      p.id === first.id
    );
    assert.ok(used.last_used_at, "last use is recorded");

    // Delete both; the authenticator's passkey no longer signs anyone in.
    for (const id of [first.id, second.id]) {
      assert.equal((await t.request("DELETE", `${W}/credentials/${id}`, { cookie })).status, 204);
    }
    assert.deepEqual(await (await t.request("GET", `${W}/credentials`, { cookie })).json(), []);
    const refused = await passkeySignIn(t, auth);
    assert.equal(refused.status, 401);
    assert.equal((await refused.json()).code, "PASSKEY_FAILED");

    assert.equal(auditOf(t, "auth.passkey.register").length, 2);
    assert.equal(auditOf(t, "auth.passkey.rename").length, 1);
    assert.equal(auditOf(t, "auth.passkey.delete").length, 2);
    const logins = auditOf(t, "auth.login").filter((e) => (e.details as Json)?.method === "passkey");
    assert.deepEqual(logins.map((e) => e.outcome).sort(), ["failure", "success", "success"]);
    assert.ok(logins.every((e) => e.details.credential === first.id.slice(0, 12) || e.outcome === "failure"));
  } finally {
    await t.close();
  }
});

Deno.test("passkeys: challenges are per request, single use, short-lived and bound to their purpose and user", async () => {
  const t = await testApp();
  try {
    const admin = await t.setupAdmin();
    const auth = new SoftAuthenticator(ORIGIN);
    await registerPasskey(t, admin, auth);

    // Two sign-ins in flight at once both succeed, begun in one order and finished in the other.
    const a = await (await t.request("POST", `${W}/login/begin`, { body: {} })).json();
    const b = await (await t.request("POST", `${W}/login/begin`, { body: {} })).json();
    assert.notEqual(a.challenge_id, b.challenge_id);
    assert.notEqual(a.options.challenge, b.options.challenge);
    const answerB = await auth.get(b.options);
    const answerA = await auth.get(a.options);
    const finish = (challenge_id: string, response: Json) =>
      t.request("POST", `${W}/login/finish`, { body: { challenge_id, response } });
    assert.equal((await finish(b.challenge_id, answerB)).status, 200);
    assert.equal((await finish(a.challenge_id, answerA)).status, 200);

    // Replaying a used challenge.
    const c = await (await t.request("POST", `${W}/login/begin`, { body: {} })).json();
    const answerC = await auth.get(c.options);
    assert.equal((await finish(c.challenge_id, answerC)).status, 200);
    const replay = await finish(c.challenge_id, answerC);
    assert.equal(replay.status, 400);
    assert.equal((await replay.json()).code, "CHALLENGE_INVALID");

    // Expired.
    const d = await (await t.request("POST", `${W}/login/begin`, { body: {} })).json();
    const answerD = await auth.get(d.options);
    t.clock.advance(CHALLENGE_TTL_MS + 1);
    assert.equal((await (await finish(d.challenge_id, answerD)).json()).code, "CHALLENGE_INVALID");

    // A registration challenge cannot finish a sign-in, nor another user's registration.
    const reg = await (await t.request("POST", `${W}/register/begin`, { cookie: admin })).json();
    assert.equal((await (await finish(reg.challenge_id, answerD)).json()).code, "CHALLENGE_INVALID");
    await t.createUser(admin, "bob");
    const bob = await t.login("bob", "bob-password-1");
    const stolen = await t.request("POST", `${W}/register/finish`, {
      cookie: bob,
      body: { challenge_id: reg.challenge_id, response: await auth.create(reg.options) },
    });
    assert.equal((await stolen.json()).code, "CHALLENGE_INVALID");
  } finally {
    await t.close();
  }
});

Deno.test("passkeys: a signature counter that goes backwards is refused and audited as a possible clone", async () => {
  const t = await testApp();
  try {
    const admin = await t.setupAdmin();
    const auth = new SoftAuthenticator(ORIGIN);
    await registerPasskey(t, admin, auth);
    assert.equal((await passkeySignIn(t, auth)).status, 200);
    assert.equal((await passkeySignIn(t, auth)).status, 200);
    auth.credentials[0].counter = 0; // a clone made before the last two uses
    const res = await passkeySignIn(t, auth);
    assert.equal(res.status, 401);
    const body = await res.json();
    assert.deepEqual(Object.keys(body).sort(), ["code", "detail"]);
    assert.doesNotMatch(body.detail, /counter/, "the client is not told why");
    const [entry] = auditOf(t, "auth.passkey.counter_regression");
    assert.equal(entry.outcome, "denied");
    assert.equal(entry.target, ADMIN.username);
    assert.match(String((entry.details as Json).reason), /from 2 to 1/);
    assert.equal(entry.ip, "192.0.2.10");
  } finally {
    await t.close();
  }
});

Deno.test("passkeys: answers from another origin, unknown users and malformed bodies are refused cleanly", async () => {
  const t = await testApp();
  try {
    const admin = await t.setupAdmin();
    const phishing = new SoftAuthenticator("https://claworc.test.evil.example");
    const begin = await (await t.request("POST", `${W}/register/begin`, { cookie: admin })).json();
    const res = await t.request("POST", `${W}/register/finish`, {
      cookie: admin,
      body: { challenge_id: begin.challenge_id, response: await phishing.create(begin.options) },
    });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).code, "PASSKEY_REJECTED");
    assert.equal(auditOf(t, "auth.passkey.register")[0].outcome, "failure");

    // An unknown username gets a stable decoy allow list shaped like a real one.
    const ask = async (username: string) =>
      (await (await t.request("POST", `${W}/login/begin`, { body: { username } })).json()).options;
    const ghost1 = await ask("ghost"), ghost2 = await ask("ghost");
    assert.equal(ghost1.allowCredentials.length, 1);
    assert.deepEqual(ghost1.allowCredentials, ghost2.allowCredentials);
    assert.notDeepEqual((await ask("other")).allowCredentials, ghost1.allowCredentials);

    for (
      const body of [
        { challenge_id: "x", response: {} },
        { challenge_id: "a".repeat(100), response: { id: "abc" } },
        { challenge_id: "abc", response: { id: "a".repeat(20), rawId: "a".repeat(20), type: "public-key" } },
        { challenge_id: "abc" },
      ]
    ) {
      const r = await t.request("POST", `${W}/login/finish`, { body });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal((await r.json()).code, "VALIDATION_FAILED");
    }
    for (const bad of ["abc", "not*base64url*at*all!!", "%2e%2e%2f%2e%2e%2fetc"]) {
      const r = await t.request("DELETE", `${W}/credentials/${bad}`, { cookie: admin });
      assert.equal(r.status, 400, bad);
      assert.equal((await r.json()).code, "BAD_REQUEST");
    }
    const missing = await t.request("DELETE", `${W}/credentials/${"A".repeat(22)}`, { cookie: admin });
    assert.equal(missing.status, 404);
  } finally {
    await t.close();
  }
});

Deno.test("passkeys: one user cannot see, rename or delete another's passkeys", async () => {
  const t = await testApp();
  try {
    const admin = await t.setupAdmin();
    await t.createUser(admin, "bob");
    const bob = await t.login("bob", "bob-password-1");
    const bobs = await registerPasskey(t, bob, new SoftAuthenticator(ORIGIN), "Bob's key");
    assert.deepEqual(await (await t.request("GET", `${W}/credentials`, { cookie: admin })).json(), []);
    const rename = await t.request("PATCH", `${W}/credentials/${bobs.id}`, { cookie: admin, body: { name: "mine" } });
    assert.equal(rename.status, 404);
    assert.equal((await t.request("DELETE", `${W}/credentials/${bobs.id}`, { cookie: admin })).status, 404);
    const still = await (await t.request("GET", `${W}/credentials`, { cookie: bob })).json();
    assert.deepEqual(still.map((p: Json) => p.name), ["Bob's key"]);
    // Admins see how many passkeys each account holds (before they require them), never the keys.
    const users = await (await t.request("GET", "/api/v1/users", { cookie: admin })).json();
    assert.deepEqual(users.map((u: Json) => [u.username, u.passkeys]), [["admin", 0], ["bob", 1]]);
  } finally {
    await t.close();
  }
});

Deno.test("passkeys: sign-in policy (passwords until a passkey, admins need one, passkeys only) cannot lock anyone out", async () => {
  const t = await testApp();
  try {
    const admin = await t.setupAdmin();
    await t.createUser(admin, "bob");
    const put = (body: Json, cookie = admin) => t.request("PUT", "/api/v1/settings", { cookie, body });
    const password = (u: string, p: string) =>
      t.request("POST", "/api/v1/auth/login", { body: { username: u, password: p } });

    // Admins without a passkey: requiring one is refused, naming them.
    const early = await put({ admin_passkey_required: true });
    assert.equal(early.status, 409);
    const earlyBody = await early.json();
    assert.equal(earlyBody.code, "POLICY_CONFLICT");
    assert.deepEqual(earlyBody.accounts, [ADMIN.username]);

    const adminKey = new SoftAuthenticator(ORIGIN);
    await registerPasskey(t, admin, adminKey);
    assert.equal((await put({ admin_passkey_required: true })).status, 200);
    const refused = await password(ADMIN.username, ADMIN.password);
    assert.equal(refused.status, 403);
    assert.equal((await refused.json()).code, "PASSKEY_REQUIRED");
    assert.equal((await password("bob", "bob-password-1")).status, 200, "users still may");
    // A wrong password is still just wrong: the policy is not revealed to guessers.
    assert.equal((await (await password(ADMIN.username, "wrong-password")).json()).code, "INVALID_CREDENTIALS");
    assert.equal((await passkeySignIn(t, adminKey)).status, 200);

    // The admin's last passkey cannot be deleted while it is required.
    const [only] = await (await t.request("GET", `${W}/credentials`, { cookie: admin })).json();
    const del = await t.request("DELETE", `${W}/credentials/${only.id}`, { cookie: admin });
    assert.equal(del.status, 409);
    assert.equal((await del.json()).code, "POLICY_CONFLICT");

    // Passkeys only: refused while bob has none; "until passkey" stops bob's password once he has one.
    assert.deepEqual((await (await put({ password_sign_in: "disabled" })).json()).accounts, ["bob"]);
    assert.equal((await put({ password_sign_in: "until_passkey" })).status, 200);
    const bob = await t.login("bob", "bob-password-1");
    const bobKey = new SoftAuthenticator(ORIGIN);
    await registerPasskey(t, bob, bobKey);
    assert.equal((await password("bob", "bob-password-1")).status, 403);
    assert.equal((await passkeySignIn(t, bobKey, "bob")).status, 200);
    assert.equal((await put({ password_sign_in: "disabled" })).status, 200);

    // Operator recovery: one password sign-in despite the policy, then the policy again.
    t.services.recovery.grant(t.services.users.credentials("bob")!.id);
    assert.equal((await password("bob", "bob-password-1")).status, 200);
    assert.equal((await password("bob", "bob-password-1")).status, 403);
    const denied = auditOf(t, "auth.login").filter((e) => e.outcome === "denied");
    assert.equal(denied.length, 3);
    assert.ok(auditOf(t, "auth.login").some((e) => (e.details as Json)?.recovery === true));
  } finally {
    await t.close();
  }
});

Deno.test("logout everywhere ends every session of the caller, and only theirs", async () => {
  const t = await testApp();
  try {
    const admin = await t.setupAdmin();
    const second = await t.login(ADMIN.username, ADMIN.password);
    await t.createUser(admin, "bob");
    const bob = await t.login("bob", "bob-password-1");
    const res = await t.request("POST", "/api/v1/auth/logout-everywhere", { cookie: admin });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: "ok", ended: 2 });
    assert.match(res.headers.getSetCookie().join(), /claworc_session=;/);
    for (const cookie of [admin, second]) {
      assert.equal((await t.request("GET", "/api/v1/auth/me", { cookie })).status, 401);
    }
    assert.equal((await t.request("GET", "/api/v1/auth/me", { cookie: bob })).status, 200);
    assert.equal(auditOf(t, "auth.logout_everywhere").length, 1);
  } finally {
    await t.close();
  }
});
