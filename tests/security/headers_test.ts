import assert from "node:assert/strict";
import { ADMIN, type TestApp, testApp } from "../_helpers/harness.ts";
import type { RouteInfo } from "../../core/http/router.ts";

/**
 * Security headers on everything the app answers, walked over the route registry: every page (with
 * real and dummy ids, every instance tab, as admin, as a user it refuses and anonymously), the error
 * pages, every API answer (successes and errors), every static file, and the same through a real
 * HTTP server (where a Server or X-Powered-By header would come from).
 */

/** Referrer policies that never send a page's path to another origin. */
const SAFE_REFERRER_POLICIES = new Set([
  "no-referrer",
  "same-origin",
  "strict-origin",
  "strict-origin-when-cross-origin",
]);

/** Headers that tell an attacker what runs here. */
const LEAKY_HEADERS = ["server", "x-powered-by", "x-aspnet-version", "x-runtime", "x-generator"];

const PLAIN = { username: "plain", password: "plain-password-1" };

function directives(csp: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const d of csp.split(";").map((d) => d.trim()).filter(Boolean)) {
    const [name, ...values] = d.split(/\s+/);
    assert.ok(!map.has(name.toLowerCase()), `directive ${name} appears twice in ${csp}`);
    map.set(name.toLowerCase(), values);
  }
  return map;
}

/** Everything wrong with a response's security headers (empty when all is well). */
function headerProblems(res: Response, what: string): string[] {
  const p: string[] = [];
  const h = res.headers;
  const csp = h.get("content-security-policy");
  if (!csp) return [`${what}: no Content-Security-Policy`];
  const d = directives(csp);
  const script = d.get("script-src") ?? d.get("default-src") ?? [];
  if (JSON.stringify(script) !== JSON.stringify(["'self'"])) p.push(`${what}: script-src is ${script.join(" ")}`);
  if (JSON.stringify(d.get("frame-ancestors")) !== JSON.stringify(["'none'"])) {
    p.push(`${what}: frame-ancestors is ${d.get("frame-ancestors")?.join(" ")}`);
  }
  if (JSON.stringify(d.get("object-src")) !== JSON.stringify(["'none'"])) p.push(`${what}: object-src not 'none'`);
  if (!["'none'", "'self'"].includes(d.get("base-uri")?.join(" ") ?? "")) p.push(`${what}: base-uri not restricted`);
  if (!d.has("default-src")) p.push(`${what}: no default-src`);
  for (const [name, values] of d) {
    for (const v of values) {
      if (v === "'unsafe-eval'" || v === "'wasm-unsafe-eval'") p.push(`${what}: ${name} allows ${v}`);
      if (v === "*" || v.startsWith("*.") || v === "http:" || v === "https:") p.push(`${what}: ${name} has ${v}`);
      if ((name === "script-src" || name === "default-src") && /unsafe|data:|blob:/.test(v)) {
        p.push(`${what}: ${name} has ${v}`);
      }
    }
  }
  if (h.get("x-content-type-options") !== "nosniff") p.push(`${what}: X-Content-Type-Options`);
  if (!SAFE_REFERRER_POLICIES.has(h.get("referrer-policy") ?? "")) {
    p.push(`${what}: Referrer-Policy ${h.get("referrer-policy")}`);
  }
  if (h.get("x-frame-options") !== "DENY") p.push(`${what}: X-Frame-Options ${h.get("x-frame-options")}`);
  for (const name of LEAKY_HEADERS) if (h.has(name)) p.push(`${what}: ${name}: ${h.get(name)}`);
  for (const [name, value] of h) {
    if (/\b(hono|deno)\b/i.test(value)) p.push(`${what}: ${name} names the stack (${value})`);
  }
  const type = h.get("content-type") ?? "";
  // Pages and API answers hold per-user data: no cache may keep them. Event streams are never
  // replayed from a cache either way; theirs say no-cache (Hono's streamSSE).
  const uncached = type.startsWith("text/event-stream") ? /no-(store|cache)/ : /no-store/;
  if ((type.startsWith("text/html") || what.includes(" /api/")) && !uncached.test(h.get("cache-control") ?? "")) {
    p.push(`${what}: Cache-Control ${h.get("cache-control")}`);
  }
  return p;
}

interface World {
  t: TestApp;
  admin: string;
  plain: string;
  instanceId: number;
}

async function world(): Promise<World> {
  const t = await testApp();
  const admin = await t.setupAdmin();
  await t.createUser(admin, PLAIN.username, "user", PLAIN.password);
  const plain = await t.login(PLAIN.username, PLAIN.password);
  const instanceId = t.services.instances.insert("bot-a", "A").id;
  return { t, admin, plain, instanceId };
}

/** Concrete URLs for a page path: the real instance, a missing one and a malformed id; every tab and a bogus one. */
function pageUrls(w: World, path: string): string[] {
  let urls = [path];
  const expand = (param: RegExp, values: string[]) =>
    urls = urls.flatMap((u) => param.test(u) ? values.map((v) => u.replace(param, v)) : [u]);
  expand(/:id\b/, [String(w.instanceId), "999", "abc"]);
  expand(/:tab\b/, [...w.t.host.instanceTabs.map((tab) => tab.path), "no-such-tab"]);
  expand(/:\w+/, ["1"]);
  return urls;
}

Deno.test("every page, as admin, as a refused user and anonymously, with real and dummy ids, carries the headers", async () => {
  const w = await world();
  const { t } = w;
  try {
    const pages = t.registry.routes.filter((r) => r.kind === "page" && r.method === "GET" && r.path !== "/static/*");
    assert.ok(pages.length > 0);
    assert.ok(t.host.instanceTabs.length > 0);
    const problems: string[] = [];
    const statuses = new Map<number, string>();
    let cells = 0;
    for (const route of pages) {
      for (const url of pageUrls(w, route.path)) {
        for (const [caller, cookie] of [["admin", w.admin], ["user", w.plain], ["anonymous", undefined]] as const) {
          const res = await t.request("GET", url, { cookie });
          const what = `GET ${url} as ${caller} (${res.status})`;
          problems.push(...headerProblems(res, what));
          statuses.set(res.status, what);
          await res.body?.cancel();
          cells++;
        }
      }
    }
    // The form logout is a page route too.
    const out = await t.request("POST", "/logout", { cookie: await t.login(ADMIN.username, ADMIN.password) });
    assert.equal(out.status, 303);
    problems.push(...headerProblems(out, "POST /logout"));
    assert.deepEqual(problems, []);
    // The walk really met pages, redirects and the error pages.
    for (const status of [200, 302, 400, 403, 404]) assert.ok(statuses.has(status), `some page answered ${status}`);
    assert.ok(cells > pages.length * 3);
  } finally {
    await t.close();
  }
});

Deno.test("the error pages (404, 403, 400), the login and setup pages are HTML with the headers", async () => {
  const t = await testApp();
  try {
    const setup = await t.request("GET", "/setup");
    assert.equal(setup.status, 200);
    assert.deepEqual(headerProblems(setup, "GET /setup"), []);
    await setup.body?.cancel();
    const admin = await t.setupAdmin();
    await t.createUser(admin, PLAIN.username, "user", PLAIN.password);
    const plain = await t.login(PLAIN.username, PLAIN.password);
    const cases: [string, string | undefined, number, string | null][] = [
      ["/login", undefined, 200, null],
      ["/no/such/page", undefined, 404, "NOT_FOUND"],
      ["/no/such/page", admin, 404, "NOT_FOUND"],
      ["/users", plain, 403, "FORBIDDEN"],
      ["/settings", plain, 403, "FORBIDDEN"],
      ["/instances/abc", admin, 400, "BAD_REQUEST"],
      ["/instances/424242/terminal", admin, 404, "INSTANCE_NOT_FOUND"],
    ];
    for (const [path, cookie, status, code] of cases) {
      const res = await t.request("GET", path, { cookie });
      const what = `GET ${path} (${status})`;
      assert.equal(res.status, status, what);
      assert.match(res.headers.get("content-type") ?? "", /^text\/html/, what);
      assert.deepEqual(headerProblems(res, what), []);
      const html = await res.text();
      if (code) assert.match(html, new RegExp(`data-code="${code}"`), `${what}: the error page`);
    }
  } finally {
    await t.close();
  }
});

Deno.test("the desktop pop-out page carries the same policy as every page (it is a window, never a frame)", async () => {
  const w = await world();
  const { t } = w;
  try {
    const route = t.registry.find("GET", "/instances/:id/desktop/popout");
    assert.ok(route, "the desktop plugin registers its pop-out page");
    assert.ok(t.host.pages.some((p) => p.path === route.path), "through ctx.page, rendered by core");
    const popout = await t.request("GET", `/instances/${w.instanceId}/desktop/popout`, { cookie: w.admin });
    assert.equal(popout.status, 200);
    const html = await popout.text();
    assert.match(html, /desktop_view/, "the desktop island is on it");
    assert.deepEqual(headerProblems(popout, "popout"), []);
    // The plugin sets no header of its own: the policy is exactly the one on core's pages.
    const login = await t.request("GET", "/account", { cookie: w.admin });
    await login.body?.cancel();
    for (
      const name of ["content-security-policy", "x-frame-options", "referrer-policy", "cross-origin-opener-policy"]
    ) {
      assert.equal(popout.headers.get(name), login.headers.get(name), name);
    }
    // Opened with window.open from a same-origin page: COOP same-origin keeps the opener link.
    assert.equal(popout.headers.get("cross-origin-opener-policy"), "same-origin");
  } finally {
    await t.close();
  }
});

/** A concrete URL for an API route (instance 1, user `userId`). */
function apiUrl(route: RouteInfo, w: World, userId: number): string {
  return route.path
    .replace(/:id\b/g, String(w.instanceId))
    .replace(/:userId\b/g, String(userId))
    .replace(/:sid\b/g, "main")
    .replace(/:rid\b/g, "main-20260101T000000Z-0000abcd")
    .replace(/:rolloutId\b/g, "00000000-0000-4000-8000-000000000000")
    .replace(/:\w+/g, "1");
}

Deno.test("every API answer, success or error, carries the headers and is never cached", async () => {
  const w = await world();
  const { t } = w;
  try {
    const api = t.registry.routes.filter((r) => r.kind !== "page");
    assert.ok(api.length > 0);
    const userId = t.services.users.list().find((u) => u.username === PLAIN.username)!.id;
    const problems: string[] = [];
    const statuses = new Set<number>();
    let cells = 0;
    const check = async (method: string, url: string, opts: Parameters<TestApp["request"]>[2], who: string) => {
      const res = await t.request(method, url, opts);
      const what = `${method} ${url} as ${who} (${res.status})`;
      problems.push(...headerProblems(res, what));
      statuses.add(res.status);
      await res.body?.cancel();
      cells++;
    };
    for (const route of api) {
      const url = apiUrl(route, w, userId);
      // Reads as the admin (successes, streams, WebSocket routes without an upgrade), and every route
      // anonymously and as a refused user (401/403 or a validation error), so no state changes.
      if (route.method === "GET") await check("GET", url, { cookie: w.admin }, "admin");
      await check(route.method, url, {}, "anonymous");
      if (route.permission !== "public") await check(route.method, url, { cookie: w.plain }, "user");
    }
    // And the answers no route gives: unknown path, refused origin, malformed JSON, oversize... as JSON.
    await check("GET", "/api/v1/no/such/thing", {}, "anonymous");
    await check("POST", "/api/v1/users", { cookie: w.admin, origin: "https://evil.example", body: {} }, "admin");
    await check(
      "POST",
      "/api/v1/auth/login",
      { rawBody: "{", headers: { "content-type": "application/json" } },
      "anonymous",
    );
    await check("GET", "/metrics", { headers: { authorization: "Bearer wrong" } }, "scraper");
    assert.deepEqual(problems, []);
    for (const status of [200, 400, 401, 403, 404]) assert.ok(statuses.has(status), `some API call answered ${status}`);
    assert.equal(t.services.users.count(), 2, "the walk changed nothing");
    assert.ok(cells > api.length * 2);
  } finally {
    await t.close();
  }
});

/** Every file under static/, relative to it. */
async function staticFiles(dir: URL, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isDirectory) out.push(...await staticFiles(new URL(`${e.name}/`, dir), `${prefix}${e.name}/`));
    else if (e.isFile) out.push(`${prefix}${e.name}`);
  }
  return out.sort();
}

Deno.test("every static file (and a missing one) carries the headers and its own content type", async () => {
  const t = await testApp();
  try {
    const dir = new URL("../../static/", import.meta.url);
    const files = await staticFiles(dir);
    // (static/build/ holds the island bundles once `deno task build` ran; they are walked when present.)
    assert.ok(files.some((f) => f.endsWith(".css")), files.join(", "));
    const problems: string[] = [];
    let served = 0;
    for (const file of files) {
      const res = await t.request("GET", `/static/${file}`);
      const what = `GET /static/${file} (${res.status})`;
      if (res.status === 404) {
        // Only known asset types are served; anything else must not be.
        assert.doesNotMatch(file, /\.(js|css|svg|png|woff2)$/, what);
      } else {
        assert.equal(res.status, 200, what);
        served++;
        const type = res.headers.get("content-type") ?? "";
        assert.ok(type && !type.startsWith("text/html"), `${what}: ${type}`);
      }
      problems.push(...headerProblems(res, what));
      await res.body?.cancel();
    }
    const missing = await t.request("GET", "/static/no-such-file.js");
    assert.equal(missing.status, 404);
    problems.push(...headerProblems(missing, "GET /static/no-such-file.js"));
    await missing.body?.cancel();
    assert.deepEqual(problems, []);
    assert.ok(served > 0);
  } finally {
    await t.close();
  }
});

Deno.test("through a real HTTP server: no Server or X-Powered-By header, and the headers survive", async () => {
  const t = await testApp({ CLAWORC_PUBLIC_URL: "" });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req, info) => t.app.fetch(req, info));
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    const setup = await fetch(`${base}/api/v1/auth/setup`, {
      method: "POST",
      headers: { origin: base, "content-type": "application/json" },
      body: JSON.stringify(ADMIN),
    });
    assert.equal(setup.status, 201, await setup.clone().text());
    await setup.body?.cancel();
    const cookie = setup.headers.getSetCookie()[0].split(";")[0];
    const problems: string[] = [];
    for (
      const [path, headers] of [
        ["/login", {}],
        ["/", { cookie }],
        ["/users", {}],
        ["/no/such/page", {}],
        ["/api/v1/auth/me", { cookie }],
        ["/api/v1/auth/me", {}],
        ["/api/v1/no/such/thing", {}],
        ["/static/app.css", {}],
        ["/health", {}],
      ] as [string, Record<string, string>][]
    ) {
      const res = await fetch(`${base}${path}`, { headers, redirect: "manual" });
      problems.push(...headerProblems(res, `GET ${path} (${res.status}, real server)`));
      await res.body?.cancel();
    }
    const refused = await fetch(`${base}/api/v1/auth/logout`, {
      method: "POST",
      headers: { origin: "https://evil.example", cookie },
    });
    assert.equal(refused.status, 403);
    problems.push(...headerProblems(refused, "POST /api/v1/auth/logout (refused origin, real server)"));
    await refused.body?.cancel();
    assert.deepEqual(problems, []);
  } finally {
    await server.shutdown();
    await t.close();
  }
});
