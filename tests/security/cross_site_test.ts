import assert from "node:assert/strict";
import { ADMIN, ORIGIN, sessionCookie, type TestApp, testApp } from "../_helpers/harness.ts";
import type { RouteInfo } from "../../core/http/router.ts";

/**
 * Cross-site request forgery and cross-site WebSocket hijacking, walked over the route registry so a
 * new route is covered the day it is added: every state-changing route and every WebSocket route,
 * called with a signed-in admin's cookie from somewhere else, must be refused by the Origin check
 * before anything happens. Then the session cookie's attributes, on every Set-Cookie the app emits.
 */

const EVIL = "https://evil.example";
const STATE_CHANGING = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const VICTIM = { username: "victim", password: "victim-password-1" };

/** What a browser on another site can make a victim's browser send. */
interface CrossSiteCase {
  name: string;
  /** The Origin header (null: none). */
  origin: string | null;
  headers?: Record<string, string>;
}

const CROSS_SITE: readonly CrossSiteCase[] = [
  { name: "foreign Origin", origin: EVIL },
  { name: "Origin: null (sandboxed frame, data: URL)", origin: "null" },
  { name: "no Origin, Sec-Fetch-Site: cross-site", origin: null, headers: { "sec-fetch-site": "cross-site" } },
  // Same site, other origin: SameSite=Strict still sends the cookie, so only the Origin check stands.
  { name: "sibling subdomain", origin: "http://evil.claworc.test", headers: { "sec-fetch-site": "same-site" } },
];

/** A WebSocket handshake as a browser sends it. */
const WS_HANDSHAKE = {
  upgrade: "websocket",
  connection: "Upgrade",
  "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
  "sec-websocket-version": "13",
};

/**
 * Valid bodies, so that a request that slipped past the Origin check would really change something
 * (the snapshot comparison would then catch it). Routes not listed get `{}`: the Origin check comes
 * before validation, so they are refused all the same.
 */
const BODIES: Record<string, (w: World) => unknown> = {
  "POST /api/v1/auth/setup": () => ({ username: "second-admin", password: "second-password-1" }),
  "POST /api/v1/auth/login": () => ADMIN,
  "POST /api/v1/auth/change-password": () => ({ current_password: ADMIN.password, new_password: ADMIN.password }),
  "POST /api/v1/users": () => ({ username: "mallory", password: "mallory-password-1", role: "admin" }),
  "PUT /api/v1/users/:userId/role": () => ({ role: "admin" }),
  "PUT /api/v1/users/:userId/instances": (w) => ({ instance_ids: [w.instanceId] }),
  "POST /api/v1/users/:userId/reset-password": () => ({ password: "mallory-chose-this-1" }),
  "PUT /api/v1/settings": () => ({ audit_retention_days: 1 }),
  "POST /api/v1/instances": () => ({ display_name: "Mallory bot" }),
  "PUT /api/v1/instances/reorder": (w) => ({ instance_ids: [w.instanceId] }),
  "PUT /api/v1/instances/:id": () => ({ display_name: "Renamed by mallory" }),
  "PUT /api/v1/instances/:id/allowed-source-ips": () => ({ allowed_source_ips: ["203.0.113.0/24"] }),
  "POST /api/v1/instances/:id/files/create": () => ({ path: "/home/agent/x.txt", content: "x" }),
  "POST /api/v1/instances/:id/files/mkdir": () => ({ path: "/home/agent/x" }),
  "POST /api/v1/instances/:id/files/rename": () => ({ old_path: "/home/agent/a", new_path: "/home/agent/b" }),
  "POST /api/v1/instances/:id/config/validate": () => ({ content: "{}" }),
  "PUT /api/v1/instances/:id/config": () => ({ content: "{}", base_hash: "0".repeat(64) }),
  "PUT /api/v1/models": () => ({ primary: "openai/gpt-4o" }),
  "PUT /api/v1/instances/:id/models": () => ({ primary: "openai/gpt-4o" }),
};

interface World {
  t: TestApp;
  admin: string;
  victimId: number;
  instanceId: number;
}

const keyOf = (r: { method: string; path: string }) => `${r.method} ${r.path}`;

/** A concrete URL for a registry path; unknown parameters get a plausible value so new routes still run. */
function concretePath(path: string, w: World): string {
  return path
    .replace(/:id\b/g, String(w.instanceId))
    .replace(/:userId\b/g, String(w.victimId))
    .replace(/:tab\b/g, "terminal")
    .replace(/:sid\b/g, "main")
    .replace(/:rid\b/g, "main-20260101T000000Z-0000abcd")
    .replace(/:rolloutId\b/g, "00000000-0000-4000-8000-000000000000")
    .replace(/:\w+/g, "1")
    .replace(/\*$/, "app.css");
}

/** Everything the database holds, table by table (rows sorted), to prove nothing changed. */
function snapshot(t: TestApp): Record<string, string[]> {
  const tables = t.services.db.all<{ name: string }>(
    "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
  );
  assert.ok(tables.length > 0);
  return Object.fromEntries(
    tables.map(({ name }) => [
      name,
      t.services.db.all(`SELECT * FROM "${name}"`).map((row) => JSON.stringify(row)).sort(),
    ]),
  );
}

async function world(env: Record<string, string> = {}): Promise<World> {
  const t = await testApp(env);
  const admin = await t.setupAdmin();
  const victimId = await t.createUser(admin, VICTIM.username, "user", VICTIM.password);
  const instanceId = t.services.instances.insert("bot-a", "A").id;
  return { t, admin, victimId, instanceId };
}

function stateChanging(t: TestApp): RouteInfo[] {
  const routes = t.registry.routes.filter((r) => STATE_CHANGING.has(r.method));
  assert.ok(routes.length > 0, "the registry has state-changing routes");
  return routes;
}

function webSockets(t: TestApp): RouteInfo[] {
  const routes = t.registry.routes.filter((r) => r.kind === "websocket");
  assert.ok(routes.length > 0, "the registry has WebSocket routes");
  return routes;
}

/** Sends `route` as the signed-in admin with the given Origin/extra headers. */
function send(w: World, route: RouteInfo, origin: string | null, headers: Record<string, string> = {}) {
  const ws = route.kind === "websocket";
  const all: Record<string, string> = { ...(ws ? WS_HANDSHAKE : {}), ...headers };
  // The harness only adds Origin on non-GET requests; a WebSocket upgrade is a GET that carries one.
  if (ws && origin !== null) all.origin = origin;
  return w.t.request(route.method, concretePath(route.path, w), {
    cookie: w.admin,
    origin,
    headers: all,
    body: ws ? undefined : (BODIES[keyOf(route)]?.(w) ?? {}),
  });
}

/** The problems with a response that should be a refusal by the Origin check (empty when it is one). */
async function originRefusalProblems(res: Response, what: string): Promise<string[]> {
  const text = await res.text();
  const problems: string[] = [];
  let code: string | undefined;
  try {
    code = JSON.parse(text).code;
  } catch { /* not JSON */ }
  if (res.status !== 403 || code !== "ORIGIN_REJECTED") problems.push(`${what}: ${res.status} ${text.slice(0, 160)}`);
  if (res.headers.getSetCookie().length > 0) problems.push(`${what}: set a cookie ${res.headers.getSetCookie()}`);
  if (res.headers.get("upgrade")) problems.push(`${what}: answered with Upgrade`);
  return problems;
}

/** The code of a JSON error answer, if it is one. */
async function codeOf(res: Response): Promise<string | undefined> {
  if (res.status === 101) return undefined;
  const text = await res.text();
  try {
    return JSON.parse(text)?.code;
  } catch {
    return undefined;
  }
}

Deno.test("every state-changing route refuses a signed-in admin's cross-site request and changes nothing", async () => {
  const w = await world();
  const { t } = w;
  try {
    const routes = stateChanging(t);
    const before = snapshot(t);
    const settingsBefore = t.services.settings.get();
    const problems: string[] = [];
    let cells = 0;
    for (const route of routes) {
      for (const c of CROSS_SITE) {
        const res = await send(w, route, c.origin, c.headers);
        problems.push(...await originRefusalProblems(res, `${keyOf(route)} (${c.name})`));
        cells++;
      }
    }
    assert.deepEqual(problems, []);
    assert.equal(cells, routes.length * CROSS_SITE.length);
    // Nothing at all changed: users, passwords, roles, assignments, sessions, settings, instances, audit.
    assert.deepEqual(snapshot(t), before);
    assert.deepEqual(t.services.settings.get(), settingsBefore);
    assert.equal(t.services.users.count(), 2);
    assert.equal(t.services.users.get(w.victimId).role, "user");
    assert.equal((await t.request("GET", "/api/v1/auth/me", { cookie: w.admin })).status, 200, "session survived");
    await t.login(VICTIM.username, VICTIM.password);
    // Same-origin, the same kind of request goes through (the refusals above were about the Origin).
    const ok = await t.request("PUT", `/api/v1/users/${w.victimId}/role`, {
      cookie: w.admin,
      body: { role: "admin" },
    });
    assert.equal(ok.status, 200);
  } finally {
    await t.close();
  }
});

Deno.test("every WebSocket route refuses a cross-site upgrade before upgrading or opening anything", async () => {
  const w = await world();
  const { t } = w;
  try {
    const routes = webSockets(t);
    const before = snapshot(t);
    const problems: string[] = [];
    for (const route of routes) {
      for (const c of CROSS_SITE) {
        const res = await send(w, route, c.origin, c.headers);
        problems.push(...await originRefusalProblems(res, `${keyOf(route)} (${c.name})`));
      }
    }
    assert.deepEqual(problems, []);
    // No `*.open` audit entry, no SSH connection attempt (ssh_events), no session touched.
    assert.deepEqual(snapshot(t), before);
  } finally {
    await t.close();
  }
});

Deno.test("no GET route changes anything, so a cross-site link or image cannot, even with a method override", async () => {
  const w = await world();
  const { t } = w;
  try {
    const gets = t.registry.routes.filter((r) => r.method === "GET" && r.kind !== "websocket");
    assert.ok(gets.length > 0);
    // The audit log may record a read (a log view), and reads over SSH dial a disconnected instance
    // (connection events); nothing else may change.
    const withoutAudit = () => {
      const { audit_logs: _, ssh_events: __, ...rest } = snapshot(t);
      return rest;
    };
    const before = withoutAudit();
    const overrides: Record<string, string>[] = [
      { "sec-fetch-site": "cross-site", origin: EVIL },
      { "sec-fetch-site": "cross-site", "x-http-method-override": "DELETE", "x-method-override": "DELETE" },
    ];
    let cells = 0;
    for (const route of gets) {
      for (const headers of overrides) {
        const res = await t.request("GET", concretePath(route.path, w) + "?_method=DELETE", {
          cookie: w.admin,
          headers,
        });
        await res.body?.cancel();
        cells++;
      }
    }
    assert.equal(cells, gets.length * overrides.length);
    assert.deepEqual(withoutAudit(), before);
    // A GET on a state-changing route's path is not that route, whatever override header it carries.
    for (const route of stateChanging(t)) {
      if (t.registry.find("GET", route.path)) continue;
      const res = await t.request("GET", concretePath(route.path, w), {
        cookie: w.admin,
        headers: { "x-http-method-override": route.method },
      });
      await res.body?.cancel();
      // 404, or 400 where the path also reads as a GET route's (`/instances/reorder` as `/instances/:id`).
      assert.ok(res.status === 404 || res.status === 400, `GET ${route.path}: ${res.status}`);
    }
    assert.deepEqual(withoutAudit(), before);
    assert.equal((await t.request("GET", "/api/v1/auth/me", { cookie: w.admin })).status, 200);
  } finally {
    await t.close();
  }
});

Deno.test("same-origin requests get past the Origin check on every state-changing and WebSocket route", async () => {
  const w = await world();
  const { t } = w;
  try {
    const routes = [...stateChanging(t), ...webSockets(t)];
    const rejected: string[] = [];
    const cookies: string[] = [];
    for (const route of routes) {
      // Routes that end the caller's session (logout, password changes) get a fresh one each time.
      if ((await t.request("GET", "/api/v1/auth/me", { cookie: w.admin })).status !== 200) {
        w.admin = await t.login(ADMIN.username, ADMIN.password);
      }
      if (
        keyOf(route) === "DELETE /api/v1/users/:userId" || !t.services.users.list().some((u) => u.id === w.victimId)
      ) {
        w.victimId = await t.createUser(w.admin, `victim-${w.victimId}`, "user", VICTIM.password);
      }
      for (const headers of [{}, { "sec-fetch-site": "same-origin" }] as Record<string, string>[]) {
        const res = await send(w, route, ORIGIN, headers);
        cookies.push(...res.headers.getSetCookie());
        const code = await codeOf(res);
        if (code === "ORIGIN_REJECTED") rejected.push(`${keyOf(route)} ${JSON.stringify(headers)}`);
      }
    }
    assert.deepEqual(rejected, []);
    // Every cookie these calls set (login, logout...) carries the session cookie's attributes.
    assert.ok(cookies.length > 0, "the walk set cookies (logout clears one)");
    for (const c of cookies) assertSessionCookie(c, { secure: false }, c);
  } finally {
    await t.close();
  }
});

Deno.test("CLAWORC_ALLOWED_ORIGINS: the extra origins pass the check on every such route, others still fail", async () => {
  const extra = ["https://console.example.org", "http://localhost:8080"];
  const w = await world({ CLAWORC_ALLOWED_ORIGINS: extra.join(",") });
  const { t } = w;
  try {
    assert.deepEqual([...t.services.config.allowedOrigins].sort(), [...extra, ORIGIN].sort());
    const routes = [...stateChanging(t), ...webSockets(t)];
    const problems: string[] = [];
    const refusedAllowed: string[] = [];
    let cells = 0;
    for (const route of routes) {
      // First the refusals, with the session and data intact.
      for (const origin of [EVIL, "https://console.example.org.evil.example", "http://localhost:8081", "null"]) {
        const res = await send(w, route, origin);
        problems.push(...await originRefusalProblems(res, `${keyOf(route)} from ${origin}`));
        cells++;
      }
    }
    assert.deepEqual(problems, []);
    assert.equal(t.services.users.count(), 2, "no refused request created a user");
    for (const route of routes) {
      // (The public URL's own origin is walked in the test above.)
      for (const origin of extra) {
        if ((await t.request("GET", "/api/v1/auth/me", { cookie: w.admin })).status !== 200) {
          w.admin = await t.login(ADMIN.username, ADMIN.password);
        }
        if (!t.services.users.list().some((u) => u.id === w.victimId)) {
          w.victimId = await t.createUser(w.admin, `victim-${cells}`, "user", VICTIM.password);
        }
        const code = await codeOf(await send(w, route, origin));
        if (code === "ORIGIN_REJECTED") refusedAllowed.push(`${keyOf(route)} from allowed ${origin}`);
        cells++;
      }
    }
    assert.deepEqual(refusedAllowed, []);
    assert.equal(cells, routes.length * 6);
  } finally {
    await t.close();
  }
});

/** Parses a Set-Cookie header into its name, value and attributes (lower-cased names). */
function parseSetCookie(header: string): { name: string; value: string; attrs: Map<string, string> } {
  const [pair, ...rest] = header.split(";").map((p) => p.trim());
  const eq = pair.indexOf("=");
  const attrs = new Map<string, string>();
  for (const a of rest) {
    const i = a.indexOf("=");
    attrs.set((i < 0 ? a : a.slice(0, i)).toLowerCase(), i < 0 ? "" : a.slice(i + 1));
  }
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attrs };
}

/** The session cookie's attributes: HttpOnly, SameSite=Strict, Path=/, host-only, Secure as expected. */
function assertSessionCookie(header: string, expect: { secure: boolean; maxAge?: number }, what: string): void {
  const { name, attrs } = parseSetCookie(header);
  assert.equal(name, "claworc_session", `${what}: the only cookie is the session cookie`);
  assert.ok(attrs.has("httponly"), `${what}: HttpOnly`);
  assert.equal(attrs.get("samesite")?.toLowerCase(), "strict", `${what}: SameSite=Strict`);
  assert.equal(attrs.get("path"), "/", `${what}: Path=/`);
  assert.ok(!attrs.has("domain"), `${what}: host-only (no Domain attribute)`);
  assert.equal(attrs.has("secure"), expect.secure, `${what}: Secure ${expect.secure}`);
  if (expect.maxAge !== undefined) assert.equal(attrs.get("max-age"), String(expect.maxAge), `${what}: Max-Age`);
}

interface CookieCase {
  name: string;
  env: Record<string, string>;
  /** The origin the browser is on (and the request's Host, when there is no public URL). */
  origin: string;
  headers?: Record<string, string>;
  secure: boolean;
}

const COOKIE_CASES: readonly CookieCase[] = [
  { name: "http public URL, auto", env: {}, origin: ORIGIN, secure: false },
  {
    name: "https public URL, auto",
    env: { CLAWORC_PUBLIC_URL: "https://claworc.example" },
    origin: "https://claworc.example",
    secure: true,
  },
  {
    name: "http public URL, CLAWORC_COOKIE_SECURE=true",
    env: { CLAWORC_COOKIE_SECURE: "true" },
    origin: ORIGIN,
    secure: true,
  },
  {
    name: "https public URL, CLAWORC_COOKIE_SECURE=false",
    env: { CLAWORC_PUBLIC_URL: "https://claworc.example", CLAWORC_COOKIE_SECURE: "false" },
    origin: "https://claworc.example",
    secure: false,
  },
  {
    name: "no public URL, untrusted X-Forwarded-Proto: https is ignored",
    env: { CLAWORC_PUBLIC_URL: "" },
    origin: ORIGIN,
    headers: { host: "claworc.test", "x-forwarded-proto": "https" },
    secure: false,
  },
];

Deno.test("the session cookie is HttpOnly, SameSite=Strict, Path=/ and Secure as configured on setup, login and every logout", async () => {
  for (const k of COOKIE_CASES) {
    const t = await testApp({ CLAWORC_SESSION_MAX_HOURS: "12", ...k.env });
    try {
      const opts = { origin: k.origin, headers: k.headers };
      const maxAge = 12 * 3600;
      const setup = await t.request("POST", "/api/v1/auth/setup", { ...opts, body: ADMIN });
      assert.equal(setup.status, 201, `${k.name}: setup`);
      assert.equal(setup.headers.getSetCookie().length, 1, `${k.name}: setup sets one cookie`);
      assertSessionCookie(setup.headers.getSetCookie()[0], { secure: k.secure, maxAge }, `${k.name}: setup`);

      const login = await t.request("POST", "/api/v1/auth/login", { ...opts, body: ADMIN });
      assert.equal(login.status, 200, `${k.name}: login`);
      assert.equal(login.headers.getSetCookie().length, 1);
      assertSessionCookie(login.headers.getSetCookie()[0], { secure: k.secure, maxAge }, `${k.name}: login`);
      const token = parseSetCookie(login.headers.getSetCookie()[0]).value;
      assert.ok(token.length >= 32, `${k.name}: a long random token`);

      // Both ways of signing out clear the cookie with the same attributes (a cookie is only replaced
      // by one with the same name, path and domain).
      for (const [method, path] of [["POST", "/api/v1/auth/logout"], ["POST", "/logout"]]) {
        const cookie = sessionCookie(await t.request("POST", "/api/v1/auth/login", { ...opts, body: ADMIN }));
        const out = await t.request(method, path, { ...opts, cookie });
        assert.ok(out.status === 200 || out.status === 303, `${k.name}: ${path} ${out.status}`);
        const set = out.headers.getSetCookie();
        assert.equal(set.length, 1, `${k.name}: ${path} clears the cookie`);
        assertSessionCookie(set[0], { secure: k.secure, maxAge: 0 }, `${k.name}: ${path}`);
        assert.equal(parseSetCookie(set[0]).value, "", `${k.name}: ${path} empties the value`);
      }
    } finally {
      await t.close();
    }
  }
});

Deno.test("behind a trusted proxy without a public URL, X-Forwarded-Proto: https makes the cookie Secure", async () => {
  const t = await testApp({ CLAWORC_PUBLIC_URL: "", CLAWORC_TRUST_PROXY: "true" });
  try {
    const https = { host: "claworc.test", "x-forwarded-proto": "https" };
    // The client is on https; the proxy speaks http to us and says so. The browser's Origin is then
    // `https://claworc.test`, which the Origin check accepts as same-origin through the trusted proxy.
    const setup = await t.request("POST", "/api/v1/auth/setup", {
      body: ADMIN,
      origin: "https://claworc.test",
      headers: https,
    });
    assert.equal(setup.status, 201, await setup.clone().text());
    assertSessionCookie(setup.headers.getSetCookie()[0], { secure: true }, "setup via https proxy");
    const plain = await t.request("POST", "/api/v1/auth/login", {
      body: ADMIN,
      origin: ORIGIN,
      headers: { host: "claworc.test", "x-forwarded-proto": "http" },
    });
    assert.equal(plain.status, 200);
    assertSessionCookie(plain.headers.getSetCookie()[0], { secure: false }, "login via http proxy");
  } finally {
    await t.close();
  }
});

Deno.test("without a public URL, extra allowed origins add to same-origin, and a trusted proxy's scheme counts", async () => {
  const login = (t: TestApp, origin: string, headers: Record<string, string> = {}) =>
    t.request("POST", "/api/v1/auth/login", { body: ADMIN, origin, headers: { host: "claworc.test", ...headers } });
  const extra = "https://console.example.org";
  const t = await testApp({ CLAWORC_PUBLIC_URL: "", CLAWORC_ALLOWED_ORIGINS: extra });
  try {
    const setup = await t.request("POST", "/api/v1/auth/setup", {
      body: ADMIN,
      origin: ORIGIN,
      headers: { host: "claworc.test" },
    });
    assert.equal(setup.status, 201, "same-origin still passes beside the extra origins");
    assert.equal((await login(t, extra)).status, 200, "the extra origin passes");
    assert.equal(await codeOf(await login(t, EVIL)), "ORIGIN_REJECTED");
    assert.equal(await codeOf(await login(t, "null")), "ORIGIN_REJECTED");
    // Without a trusted proxy, X-Forwarded-Proto cannot turn an http request into an https origin.
    const forged = await login(t, "https://claworc.test", { "x-forwarded-proto": "https" });
    assert.equal(await codeOf(forged), "ORIGIN_REJECTED");
  } finally {
    await t.close();
  }
  const proxied = await testApp({ CLAWORC_PUBLIC_URL: "", CLAWORC_TRUST_PROXY: "true" });
  try {
    await proxied.request("POST", "/api/v1/auth/setup", { body: ADMIN, origin: null });
    assert.equal((await login(proxied, "https://claworc.test", { "x-forwarded-proto": "https" })).status, 200);
    assert.equal(
      await codeOf(await login(proxied, "http://claworc.test", { "x-forwarded-proto": "https" })),
      "ORIGIN_REJECTED",
    );
  } finally {
    await proxied.close();
  }
});
