import assert from "node:assert/strict";
import { ADMIN, ORIGIN, sessionCookie, testApp } from "../_helpers/harness.ts";

/** Asserts `res` is a JSON error `{detail, code}` (exactly those two strings, no stack); returns the body. */
async function errorBody(res: Response, status: number, code?: string): Promise<{ detail: string; code: string }> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  assertNoLeak(text);
  assert.doesNotMatch(text, /stack/i);
  const body = JSON.parse(text);
  assert.deepEqual(Object.keys(body).sort(), ["code", "detail"]);
  assert.equal(typeof body.detail, "string");
  assert.equal(typeof body.code, "string");
  assert.ok(body.detail.length > 0);
  if (code) assert.equal(body.code, code);
  return body;
}

/** No stack frames or source paths in a body. */
function assertNoLeak(text: string): void {
  assert.ok(!text.includes("at file://"), `stack frame leaked: ${text.slice(0, 200)}`);
  assert.ok(!text.includes("file:///"), `source path leaked: ${text.slice(0, 200)}`);
}

Deno.test("malformed, empty and mistyped JSON bodies answer 400 naming the problem", async () => {
  const t = await testApp();
  try {
    const json = { "content-type": "application/json" };
    const malformed = await t.request("POST", "/api/v1/auth/login", {
      rawBody: '{"username": "admin",',
      headers: json,
    });
    await errorBody(malformed, 400, "MALFORMED_JSON");
    const empty = await t.request("POST", "/api/v1/auth/login", { rawBody: "", headers: json });
    await errorBody(empty, 400, "MALFORMED_JSON");
    const blank = await t.request("POST", "/api/v1/auth/login", { rawBody: "  \n ", headers: json });
    await errorBody(blank, 400, "MALFORMED_JSON");
    const none = await t.request("POST", "/api/v1/auth/login");
    assert.equal(none.status, 400);
    await errorBody(none, 400);
    const notObject = await t.request("POST", "/api/v1/auth/login", { body: ["admin", "pw"] });
    await errorBody(notObject, 400, "VALIDATION_FAILED");

    const admin = await t.setupAdmin();
    const cases: { method: string; path: string; body: unknown; field: string }[] = [
      { method: "POST", path: "/api/v1/auth/login", body: { username: 42, password: "x" }, field: "username" },
      { method: "POST", path: "/api/v1/auth/login", body: { username: "admin" }, field: "password" },
      {
        method: "POST",
        path: "/api/v1/users",
        body: { username: "okname", password: 1234567890123 },
        field: "password",
      },
      {
        method: "POST",
        path: "/api/v1/users",
        body: { username: "okname", password: "okname-password-1", role: "root" },
        field: "role",
      },
      { method: "PUT", path: "/api/v1/settings", body: { audit_retention_days: "ten" }, field: "audit_retention_days" },
      { method: "PUT", path: "/api/v1/users/1/role", body: { role: true }, field: "role" },
      { method: "PUT", path: "/api/v1/users/1/instances", body: { instance_ids: ["1"] }, field: "instance_ids" },
    ];
    for (const c of cases) {
      const res = await t.request(c.method, c.path, { cookie: admin, body: c.body });
      const body = await errorBody(res, 400, "VALIDATION_FAILED");
      assert.ok(body.detail.includes(c.field), `${c.method} ${c.path}: "${body.detail}" names ${c.field}`);
    }
    assert.equal(t.services.users.count(), 1, "no invalid request created a user");
  } finally {
    await t.close();
  }
});

Deno.test("settings refuse unknown keys (strict schema) and store nothing", async () => {
  const t = await testApp();
  try {
    const admin = await t.setupAdmin();
    const before = await (await t.request("GET", "/api/v1/settings", { cookie: admin })).json();
    const rows = () => t.services.db.all("SELECT key, value FROM settings ORDER BY key");
    const rowsBefore = rows();
    const res = await t.request("PUT", "/api/v1/settings", {
      cookie: admin,
      body: { audit_retention_days: 7, theme: "dark" },
    });
    const body = await errorBody(res, 400, "VALIDATION_FAILED");
    assert.match(body.detail, /theme/);
    assert.deepEqual(await (await t.request("GET", "/api/v1/settings", { cookie: admin })).json(), before);
    assert.equal(t.services.settings.get().audit_retention_days, before.audit_retention_days, "valid key not applied");
    assert.equal(t.services.db.get("SELECT key FROM settings WHERE key = ?", "theme"), undefined);
    assert.deepEqual(rows(), rowsBefore, "the settings table is untouched");
    assert.equal(t.services.audit.query({ action: "settings.update", limit: 10, offset: 0 }).total, 0);
    // The same change without the unknown key goes through.
    const ok = await t.request("PUT", "/api/v1/settings", { cookie: admin, body: { audit_retention_days: 7 } });
    assert.equal(ok.status, 200);
    assert.equal((await ok.json()).audit_retention_days, 7);
  } finally {
    await t.close();
  }
});

Deno.test("bodies over CLAWORC_MAX_BODY_BYTES answer 413 PAYLOAD_TOO_LARGE as JSON and change nothing", async () => {
  const t = await testApp({ CLAWORC_MAX_BODY_BYTES: "2048" });
  try {
    const admin = await t.setupAdmin();
    const big = await t.request("POST", "/api/v1/users", {
      cookie: admin,
      body: { username: "big", password: "big-password-1", role: "user", padding: "x".repeat(3000) },
    });
    const body = await errorBody(big, 413, "PAYLOAD_TOO_LARGE");
    assert.match(body.detail, /2048/);
    assert.equal(t.services.users.count(), 1);
    const raw = await t.request("POST", "/api/v1/auth/login", {
      rawBody: "{" + " ".repeat(4096) + "}",
      headers: { "content-type": "application/json" },
    });
    await errorBody(raw, 413, "PAYLOAD_TOO_LARGE");
    // Just under the limit still works (the cap is not off by a lot).
    const padded = JSON.stringify(ADMIN) + " ".repeat(1900);
    assert.ok(padded.length < 2048);
    const ok = await t.request("POST", "/api/v1/auth/login", {
      rawBody: padded,
      headers: { "content-type": "application/json" },
    });
    assert.equal(ok.status, 200);
  } finally {
    await t.close();
  }
});

Deno.test("unknown API paths answer JSON 404; unknown pages answer an HTML 404", async () => {
  const t = await testApp();
  try {
    const api = await t.request("GET", "/api/v1/nope");
    const body = await errorBody(api, 404, "NOT_FOUND");
    assert.match(body.detail, /\/api\/v1\/nope/);
    await errorBody(await t.request("POST", "/api/v1/nope", { body: {} }), 404, "NOT_FOUND");
    await errorBody(await t.request("DELETE", "/api/v1/users"), 404, "NOT_FOUND");

    const page = await t.request("GET", "/nope");
    assert.equal(page.status, 404);
    assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
    const html = await page.text();
    assert.match(html, /^<!doctype html>/i);
    assert.match(html, /Page not found/);
    assertNoLeak(html);
  } finally {
    await t.close();
  }
});

Deno.test("every error answer is exactly {detail, code} with no stack", async () => {
  const t = await testApp();
  try {
    const admin = await t.setupAdmin();
    const userId = await t.createUser(admin, "erin");
    const erin = await t.login("erin", "erin-password-1");
    const json = { "content-type": "application/json" };
    const cases: [string, string, Parameters<typeof t.request>[2], number, string][] = [
      ["GET", "/api/v1/auth/me", {}, 401, "UNAUTHENTICATED"],
      ["GET", "/api/v1/auth/me", { cookie: "claworc_session=forged" }, 401, "UNAUTHENTICATED"],
      ["GET", "/api/v1/users", { cookie: erin }, 403, "FORBIDDEN"],
      [
        "POST",
        "/api/v1/auth/login",
        { body: { username: "admin", password: "wrong-password" } },
        401,
        "INVALID_CREDENTIALS",
      ],
      ["POST", "/api/v1/auth/login", { body: ADMIN, origin: "https://evil.example" }, 403, "ORIGIN_REJECTED"],
      ["POST", "/api/v1/auth/setup", { body: ADMIN }, 409, "SETUP_DONE"],
      [
        "POST",
        "/api/v1/users",
        { cookie: admin, body: { username: "ERIN", password: "erin-password-1" } },
        409,
        "USERNAME_TAKEN",
      ],
      ["DELETE", "/api/v1/users/1", { cookie: admin }, 409, "SELF_ACTION"],
      ["DELETE", "/api/v1/users/999", { cookie: admin }, 404, "USER_NOT_FOUND"],
      [
        "PUT",
        `/api/v1/users/${userId}/instances`,
        { cookie: admin, body: { instance_ids: [5] } },
        404,
        "INSTANCE_NOT_FOUND",
      ],
      ["PUT", "/api/v1/users/x/role", { cookie: admin, body: { role: "user" } }, 400, "BAD_REQUEST"],
      ["POST", "/api/v1/auth/login", { rawBody: "{", headers: json }, 400, "MALFORMED_JSON"],
      ["POST", "/api/v1/auth/login", { body: {} }, 400, "VALIDATION_FAILED"],
      ["GET", "/api/v1/audit-logs?limit=0", { cookie: admin }, 400, "VALIDATION_FAILED"],
      ["GET", "/api/v1/nope", {}, 404, "NOT_FOUND"],
      ["GET", "/static/nope.css", {}, 404, "NOT_FOUND"],
    ];
    for (const [method, path, opts, status, code] of cases) {
      await errorBody(await t.request(method, path, opts), status, code);
    }
    // Throttling: the answer carries Retry-After and still has the same shape.
    for (let i = 0; i < 6; i++) {
      await t.request("POST", "/api/v1/auth/login", { body: { username: "ghost", password: "wrong-password" } });
    }
    const limited = await t.request("POST", "/api/v1/auth/login", {
      body: { username: "ghost", password: "wrong-password" },
    });
    assert.ok(Number(limited.headers.get("retry-after")) > 0);
    await errorBody(limited, 429, "RATE_LIMITED");
  } finally {
    await t.close();
  }
});

Deno.test("state changes from a foreign Origin are refused before anything happens", async () => {
  const t = await testApp();
  try {
    const login = await t.request("POST", "/api/v1/auth/login", { body: ADMIN, origin: "https://evil.example" });
    await errorBody(login, 403, "ORIGIN_REJECTED");
    const setup = await t.request("POST", "/api/v1/auth/setup", { body: ADMIN, origin: "https://evil.example" });
    await errorBody(setup, 403, "ORIGIN_REJECTED");
    assert.equal(t.services.users.count(), 0, "setup did not run");

    const admin = await t.setupAdmin();
    const create = await t.request("POST", "/api/v1/users", {
      cookie: admin,
      origin: "https://evil.example",
      body: { username: "mallory", password: "mallory-password-1" },
    });
    await errorBody(create, 403, "ORIGIN_REJECTED");
    assert.equal(t.services.users.count(), 1, "no user was created");
    // Look-alikes of the configured origin are foreign too.
    for (
      const origin of ["http://claworc.test.evil.example", "https://claworc.test", "http://claworc.test:8080", "null"]
    ) {
      const res = await t.request("POST", "/api/v1/users", {
        cookie: admin,
        origin,
        body: { username: "mallory", password: "mallory-password-1" },
      });
      await errorBody(res, 403, "ORIGIN_REJECTED");
    }
    const logout = await t.request("POST", "/logout", { cookie: admin, origin: "https://evil.example" });
    await errorBody(logout, 403, "ORIGIN_REJECTED");
    assert.equal((await t.request("GET", "/api/v1/auth/me", { cookie: admin })).status, 200, "session survived");
    assert.equal(t.services.audit.query({ action: "user.create", limit: 10, offset: 0 }).total, 0);

    // The configured origin works.
    const same = await t.request("POST", "/api/v1/users", {
      cookie: admin,
      origin: ORIGIN,
      body: { username: "trent", password: "trent-password-1" },
    });
    assert.equal(same.status, 201);
    // No Origin and no Sec-Fetch-Site: a non-browser client, allowed.
    const script = await t.request("POST", "/api/v1/auth/login", { body: ADMIN, origin: null });
    assert.equal(script.status, 200);
    // No Origin but the browser says cross-site: refused.
    const crossSite = await t.request("POST", "/api/v1/auth/login", {
      body: ADMIN,
      origin: null,
      headers: { "sec-fetch-site": "cross-site" },
    });
    await errorBody(crossSite, 403, "ORIGIN_REJECTED");
    const sameSite = await t.request("POST", "/api/v1/auth/login", {
      body: ADMIN,
      origin: null,
      headers: { "sec-fetch-site": "same-origin" },
    });
    assert.equal(sameSite.status, 200);
    // GETs pass whatever the Origin, except WebSocket upgrades.
    const get = await t.request("GET", "/api/v1/auth/me", {
      cookie: admin,
      headers: { origin: "https://evil.example" },
    });
    assert.equal(get.status, 200);
    const ws = await t.request("GET", "/api/v1/auth/me", {
      cookie: admin,
      headers: { origin: "https://evil.example", upgrade: "websocket", connection: "Upgrade" },
    });
    await errorBody(ws, 403, "ORIGIN_REJECTED");
    const wsNoOrigin = await t.request("GET", "/api/v1/auth/me", {
      cookie: admin,
      headers: { upgrade: "websocket", "sec-fetch-site": "cross-site" },
    });
    await errorBody(wsNoOrigin, 403, "ORIGIN_REJECTED");
    const wsSame = await t.request("GET", "/api/v1/auth/me", {
      cookie: admin,
      headers: { origin: ORIGIN, upgrade: "websocket" },
    });
    assert.equal(wsSame.status, 200, "same-origin upgrade passes the check");
  } finally {
    await t.close();
  }
});

Deno.test("without CLAWORC_PUBLIC_URL, same-origin means the origin the request was addressed to", async () => {
  const t = await testApp({ CLAWORC_PUBLIC_URL: "" });
  try {
    assert.deepEqual(t.services.config.allowedOrigins, []);
    // app.request() sends no Host header; a browser (HTTP/1.1) always does, and it matches the URL.
    const host = { host: new URL(ORIGIN).host };
    const setup = await t.request("POST", "/api/v1/auth/setup", { body: ADMIN, origin: ORIGIN, headers: host });
    assert.equal(setup.status, 201, await setup.clone().text());
    const admin = sessionCookie(setup);
    for (const origin of ["http://other.example", "https://claworc.test", "http://claworc.test:81", "null"]) {
      const res = await t.request("POST", "/api/v1/users", {
        cookie: admin,
        origin,
        headers: host,
        body: { username: "mallory", password: "mallory-password-1" },
      });
      await errorBody(res, 403, "ORIGIN_REJECTED");
    }
    assert.equal(t.services.users.count(), 1);
    const ok = await t.request("POST", "/api/v1/users", {
      cookie: admin,
      origin: ORIGIN,
      headers: host,
      body: { username: "trent", password: "trent-password-1" },
    });
    assert.equal(ok.status, 201);
  } finally {
    await t.close();
  }
});

function directives(csp: string): Map<string, string[]> {
  return new Map(
    csp.split(";").map((d) => d.trim()).filter(Boolean).map((d) => {
      const [name, ...values] = d.split(/\s+/);
      return [name.toLowerCase(), values];
    }),
  );
}

function assertSecurityHeaders(res: Response, what: string): void {
  const csp = res.headers.get("content-security-policy");
  assert.ok(csp, `${what}: CSP`);
  assert.ok(csp.includes("default-src 'self'"), `${what}: ${csp}`);
  assert.ok(csp.includes("script-src 'self'"), `${what}: ${csp}`);
  assert.ok(csp.includes("frame-ancestors 'none'"), `${what}: ${csp}`);
  const script = directives(csp).get("script-src") ?? [];
  assert.deepEqual(script, ["'self'"], `${what}: script-src allows only 'self'`);
  assert.ok(!script.includes("'unsafe-inline'") && !script.includes("'unsafe-eval'"));
  assert.equal(res.headers.get("x-content-type-options"), "nosniff", what);
  assert.ok(res.headers.get("referrer-policy"), `${what}: referrer-policy`);
}

Deno.test("security headers are on pages, API answers, errors and redirects; API answers are not cached", async () => {
  const t = await testApp();
  try {
    const admin = await t.setupAdmin();
    const page = await t.request("GET", "/login");
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
    assertSecurityHeaders(page, "GET /login");
    const apiResponses: [string, Response][] = [
      ["GET /api/v1/auth/me", await t.request("GET", "/api/v1/auth/me", { cookie: admin })],
      ["GET /api/v1/auth/me (401)", await t.request("GET", "/api/v1/auth/me")],
      ["GET /api/v1/nope (404)", await t.request("GET", "/api/v1/nope")],
      [
        "POST /api/v1/auth/login (origin refused)",
        await t.request("POST", "/api/v1/auth/login", { body: ADMIN, origin: "https://evil.example" }),
      ],
      ["GET /api/v1/openapi.json", await t.request("GET", "/api/v1/openapi.json")],
    ];
    for (const [what, res] of apiResponses) {
      assertSecurityHeaders(res, what);
      assert.equal(res.headers.get("cache-control"), "no-store", what);
      await res.body?.cancel();
    }
    for (
      const [what, res] of [
        ["GET /nope", await t.request("GET", "/nope")],
        ["GET /users (redirect)", await t.request("GET", "/users")],
        ["GET /static/app.css", await t.request("GET", "/static/app.css")],
        ["GET /health", await t.request("GET", "/health")],
        ["GET /", await t.request("GET", "/", { cookie: admin })],
      ] as const
    ) {
      assertSecurityHeaders(res, what);
      await res.body?.cancel();
    }
  } finally {
    await t.close();
  }
});

/** Every `<script ...>` tag of a page. */
function scriptTags(html: string): string[] {
  return html.match(/<script\b[^>]*>/gi) ?? [];
}

function assertNoInlineScript(html: string, what: string): void {
  for (const tag of scriptTags(html)) {
    assert.match(tag, /\ssrc="[^"]+"/, `${what}: inline script ${tag}`);
    assert.match(tag, /\stype="module"/, `${what}: ${tag} is not a module`);
  }
  // Every script element is empty: its code comes from src.
  for (const m of html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/gi)) {
    assert.equal(m[1].trim(), "", `${what}: script with inline content`);
  }
  assert.doesNotMatch(html, /\son[a-z]+\s*=/i, `${what}: inline event handler attribute`);
  assert.doesNotMatch(html, /javascript:/i, `${what}: javascript: URL`);
}

Deno.test("pages carry no inline script: every script is a module loaded from src", async () => {
  const t = await testApp();
  try {
    const setup = await t.request("GET", "/setup");
    assert.equal(setup.status, 200);
    const setupHtml = await setup.text();
    assertNoInlineScript(setupHtml, "/setup");
    assert.ok(scriptTags(setupHtml).length > 0, "the setup island loads its module");

    const admin = await t.setupAdmin();
    const login = await t.request("GET", "/login");
    assert.equal(login.status, 200);
    const loginHtml = await login.text();
    assertNoInlineScript(loginHtml, "/login");
    assert.ok(scriptTags(loginHtml).length > 0);

    for (const path of ["/", "/users", "/audit", "/account", "/settings"]) {
      const res = await t.request("GET", path, { cookie: admin });
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get("content-type") ?? "", /^text\/html/, path);
      const html = await res.text();
      assertNoLeak(html);
      assertNoInlineScript(html, path);
      for (const tag of scriptTags(html)) {
        const src = tag.match(/\ssrc="([^"]+)"/)![1];
        assert.ok(src.startsWith("/static/"), `${path}: ${src} is same-origin static`);
        const js = await t.request("GET", src);
        assert.equal(js.status, 200, `${path}: ${src}`);
        assert.match(js.headers.get("content-type") ?? "", /^text\/javascript/);
        await js.body?.cancel();
      }
    }
  } finally {
    await t.close();
  }
});

Deno.test("/health answers without a session", async () => {
  const t = await testApp();
  try {
    const res = await t.request("GET", "/health");
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.status, "healthy");
    assert.equal(body.database, "ok");
    assert.equal(body.backend, "none");
    assert.equal(typeof body.version, "string");
  } finally {
    await t.close();
  }
});

interface Operation {
  "x-permission"?: string;
  parameters?: { name: string; in: string }[];
  requestBody?: { content: { "application/json": { schema: { properties?: Record<string, unknown> } } } };
}

Deno.test("/api/v1/openapi.json documents the API from the route specs", async () => {
  const t = await testApp();
  try {
    const res = await t.request("GET", "/api/v1/openapi.json");
    assert.equal(res.status, 200);
    const doc = await res.json();
    assert.match(doc.openapi, /^3\.1\./);
    const paths = doc.paths as Record<string, Record<string, Operation>>;

    const login = paths["/api/v1/auth/login"]?.post;
    assert.ok(login, "POST /api/v1/auth/login");
    const props = login.requestBody?.content["application/json"].schema.properties ?? {};
    assert.ok("username" in props && "password" in props, JSON.stringify(props));
    assert.ok(paths["/api/v1/users/{userId}/role"]?.put, "PUT /api/v1/users/{userId}/role");
    const audit = paths["/api/v1/audit-logs"]?.get;
    assert.ok(audit, "GET /api/v1/audit-logs");
    const query = (audit.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name);
    assert.ok(query.includes("limit") && query.includes("offset"), query.join(","));

    let operations = 0;
    for (const [path, ops] of Object.entries(paths)) {
      for (const [method, op] of Object.entries(ops)) {
        operations++;
        const route = t.registry.find(method.toUpperCase(), path.replace(/\{(\w+)\}/g, ":$1"));
        assert.ok(route, `${method} ${path} is a registered route`);
        assert.equal(op["x-permission"], route.permission, `${method} ${path} x-permission`);
      }
    }
    const documented = t.registry.routes.filter((r) => r.path.startsWith("/api/") || r.path === "/health").length;
    assert.equal(operations, documented, "every API route is documented");
  } finally {
    await t.close();
  }
});

Deno.test("static assets are served from the static folder only", async () => {
  const t = await testApp();
  try {
    const css = await t.request("GET", "/static/app.css");
    assert.equal(css.status, 200);
    assert.match(css.headers.get("content-type") ?? "", /^text\/css/);
    assert.ok((await css.text()).length > 0);
    const deno = await Deno.readTextFile(new URL("../../deno.json", import.meta.url));
    for (
      const path of [
        "/static/../deno.json",
        "/static/%2e%2e/deno.json",
        "/static/%2E%2E/deno.json",
        "/static/..%2fdeno.json",
        "/static/..%2Fdeno.json",
        "/static/%2e%2e%2fdeno.json",
        "/static/..%5cdeno.json",
        "/static/build/..%2f..%2fdeno.json",
        "/static/..%2fcore%2fapp.ts",
        "/static/..%2fstatic%2f..%2fdeno.json",
        "/static/%252e%252e%252fdeno.json",
      ]
    ) {
      const res = await t.request("GET", path);
      const text = await res.text();
      assert.equal(res.status, 404, path);
      assert.ok(!text.includes('"tasks"') && !text.includes(deno.slice(0, 40)), `${path} served the file`);
      assertNoLeak(text);
    }
  } finally {
    await t.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Regression tests for defects found while writing this suite (they fail until the app is fixed).
// ---------------------------------------------------------------------------------------------

Deno.test("a malformed percent-escape under /static answers 404, not 500", async () => {
  const t = await testApp();
  try {
    for (const path of ["/static/%", "/static/%E0%A4%A", "/static/app.css%"]) {
      const res = await t.request("GET", path);
      await errorBody(res, 404, "NOT_FOUND");
    }
  } finally {
    await t.close();
  }
});

Deno.test("/login?next= never redirects off-site, and never fails on control characters", async () => {
  const t = await testApp();
  try {
    const admin = await t.setupAdmin();
    const problems: string[] = [];
    for (
      const next of [
        "//evil.example",
        "/\\evil.example",
        "https://evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "/\r/evil.example",
        "\t//evil.example",
      ]
    ) {
      const res = await t.request("GET", `/login?next=${encodeURIComponent(next)}`, { cookie: admin });
      const what = `next=${JSON.stringify(next)}`;
      const location = res.headers.get("location") ?? "";
      // Browsers resolve Location with the URL parser, which drops tabs and newlines.
      if (res.status !== 302) problems.push(`${what}: ${res.status} ${await res.text()}`);
      else if (new URL(location, ORIGIN).origin !== ORIGIN) {
        problems.push(`${what}: Location ${JSON.stringify(location)}`);
      }
    }
    assert.deepEqual(problems, []);
  } finally {
    await t.close();
  }
});
