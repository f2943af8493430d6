import assert from "node:assert/strict";
import { ADMIN, type TestApp, testApp } from "../_helpers/harness.ts";
import { type Permission, PERMISSIONS } from "../../core/http/policy.ts";
import type { RouteInfo } from "../../core/http/router.ts";

/**
 * The authorization matrix: every route of the application, by hand, with the permission it must
 * declare. A new route without a row fails, a row without a route fails, a changed permission fails.
 */
const EXPECTED: Record<string, Permission> = {
  // plugins/audit
  "GET /api/v1/audit-logs": "admin",
  "GET /api/v1/audit-logs/actions": "admin",
  "GET /audit": "admin",
  // plugins/terminal
  "GET /api/v1/instances/:id/chat": "instance",
  "GET /api/v1/instances/:id/terminal": "instance",
  "GET /api/v1/instances/:id/terminal/sessions": "instance",
  "DELETE /api/v1/instances/:id/terminal/sessions/:sid": "instance",
  "GET /api/v1/instances/:id/terminal/recordings": "instance",
  "GET /api/v1/instances/:id/terminal/recordings/:rid": "instance",
  "DELETE /api/v1/instances/:id/terminal/recordings/:rid": "instance",
  // plugins/desktop
  "GET /api/v1/instances/:id/desktop/websockify": "instance",
  "GET /instances/:id/desktop/popout": "instance",
  // plugins/files
  "GET /api/v1/instances/:id/files/browse": "instance",
  "GET /api/v1/instances/:id/files/read": "instance",
  "GET /api/v1/instances/:id/files/download": "instance",
  "POST /api/v1/instances/:id/files/create": "instance",
  "POST /api/v1/instances/:id/files/mkdir": "instance",
  "DELETE /api/v1/instances/:id/files": "instance",
  "POST /api/v1/instances/:id/files/rename": "instance",
  "POST /api/v1/instances/:id/files/upload": "instance",
  // plugins/logs
  "GET /api/v1/instances/:id/logs/types": "instance",
  "GET /api/v1/instances/:id/logs": "instance",
  // plugins/models
  "GET /api/v1/models": "admin",
  "PUT /api/v1/models": "admin",
  "GET /api/v1/models/rollouts/:rolloutId": "admin",
  "GET /api/v1/instances/:id/models": "instance",
  "PUT /api/v1/instances/:id/models": "admin",
  "GET /models": "admin",
  // plugins/config
  "GET /api/v1/instances/:id/config": "instance",
  "POST /api/v1/instances/:id/config/validate": "instance",
  "PUT /api/v1/instances/:id/config": "instance",
  // routes/api/auth.ts
  "GET /api/v1/auth/setup-required": "public",
  "POST /api/v1/auth/setup": "public",
  "POST /api/v1/auth/login": "public",
  "POST /api/v1/auth/logout": "authenticated",
  "GET /api/v1/auth/me": "authenticated",
  "POST /api/v1/auth/change-password": "authenticated",
  "POST /api/v1/auth/logout-everywhere": "authenticated",
  // routes/api/passkeys.ts
  "POST /api/v1/auth/webauthn/register/begin": "authenticated",
  "POST /api/v1/auth/webauthn/register/finish": "authenticated",
  "GET /api/v1/auth/webauthn/credentials": "authenticated",
  "PATCH /api/v1/auth/webauthn/credentials/:credId": "authenticated",
  "DELETE /api/v1/auth/webauthn/credentials/:credId": "authenticated",
  "POST /api/v1/auth/webauthn/login/begin": "public",
  "POST /api/v1/auth/webauthn/login/finish": "public",
  // routes/api/users.ts
  "GET /api/v1/users": "admin",
  "POST /api/v1/users": "admin",
  "DELETE /api/v1/users/:userId": "admin",
  "PUT /api/v1/users/:userId/role": "admin",
  "GET /api/v1/users/:userId/instances": "admin",
  "PUT /api/v1/users/:userId/instances": "admin",
  "POST /api/v1/users/:userId/reset-password": "admin",
  // routes/api/instances.ts
  "GET /api/v1/instances": "authenticated",
  "POST /api/v1/instances": "admin",
  "GET /api/v1/instances/:id": "instance",
  "DELETE /api/v1/instances/:id": "admin",
  "POST /api/v1/instances/:id/start": "instance",
  "POST /api/v1/instances/:id/stop": "instance",
  "POST /api/v1/instances/:id/restart": "instance",
  "PUT /api/v1/instances/reorder": "admin",
  "GET /api/v1/instances/:id/operation": "instance",
  "PUT /api/v1/instances/:id": "admin",
  "POST /api/v1/instances/:id/clone": "admin",
  "POST /api/v1/instances/:id/update-image": "admin",
  // routes/api/events.ts
  "GET /api/v1/events": "authenticated",
  "GET /api/v1/ssh-fingerprint": "authenticated",
  "GET /api/v1/instances/:id/ssh-status": "instance",
  "GET /api/v1/instances/:id/ssh-events": "instance",
  "GET /api/v1/instances/:id/tunnels": "instance",
  "GET /api/v1/instances/:id/ssh-test": "instance",
  "POST /api/v1/instances/:id/ssh-reconnect": "instance",
  "GET /api/v1/instances/:id/allowed-source-ips": "admin",
  "PUT /api/v1/instances/:id/allowed-source-ips": "admin",
  // routes/api/settings.ts
  "GET /api/v1/settings": "admin",
  "PUT /api/v1/settings": "admin",
  "POST /api/v1/settings/rotate-ssh-key": "admin",
  // routes/api/system.ts
  "GET /health": "public",
  "GET /api/v1/openapi.json": "public",
  "GET /api/v1/engine": "admin",
  "GET /metrics": "metrics",
  // routes/static.ts
  "GET /static/*": "public",
  // routes/pages/mod.tsx
  "GET /setup": "public",
  "GET /login": "public",
  "POST /logout": "public",
  "GET /": "authenticated",
  "GET /users": "admin",
  "GET /account": "authenticated",
  "GET /settings": "admin",
  "GET /instances/:id": "instance",
  "GET /instances/:id/:tab": "instance",
};

const keyOf = (r: { method: string; path: string }) => `${r.method} ${r.path}`;

/** Global middleware is registered by Hono as method ALL on these paths; anything else is a route. */
const MIDDLEWARE_PATHS = new Set(["/*", "/api/*"]);

Deno.test("every Hono route has a policy in the registry, and every registry route is served by Hono", async () => {
  const t = await testApp();
  try {
    const middleware = t.app.routes.filter((r) => r.method === "ALL");
    for (const m of middleware) {
      assert.ok(
        MIDDLEWARE_PATHS.has(m.path),
        `ALL ${m.path} (${m.handler.name || "anonymous"}) is not global middleware: use Router.add, not app.all`,
      );
    }
    const hono = new Set(t.app.routes.filter((r) => r.method !== "ALL").map(keyOf));
    const registry = new Set(t.registry.routes.map(keyOf));
    assert.ok(hono.size > 0 && registry.size > 0);
    const unregistered = [...hono].filter((k) => !registry.has(k));
    assert.deepEqual(unregistered, [], "Hono routes added without Router.add (no permission declared)");
    const unserved = [...registry].filter((k) => !hono.has(k));
    assert.deepEqual(unserved, [], "registry routes Hono does not serve");
    assert.equal(registry.size, t.registry.routes.length, "no route is registered twice");
    for (const r of t.registry.routes) {
      assert.ok(PERMISSIONS.includes(r.permission), `${keyOf(r)} has unknown permission ${r.permission}`);
    }
  } finally {
    await t.close();
  }
});

Deno.test("the registry matches the authorization matrix exactly", async () => {
  const t = await testApp();
  try {
    const actual = Object.fromEntries(t.registry.routes.map((r) => [keyOf(r), r.permission]));
    const missingRows = Object.keys(actual).filter((k) => !(k in EXPECTED)).sort();
    const staleRows = Object.keys(EXPECTED).filter((k) => !(k in actual)).sort();
    assert.deepEqual(missingRows, [], "routes without a row in EXPECTED");
    assert.deepEqual(staleRows, [], "rows in EXPECTED without a route");
    for (const [key, permission] of Object.entries(EXPECTED)) {
      assert.equal(actual[key], permission, `${key} declares ${actual[key]}, the matrix says ${permission}`);
    }
  } finally {
    await t.close();
  }
});

type Caller = "anonymous" | "user" | "assigned" | "admin";
const CALLERS: readonly Caller[] = ["anonymous", "user", "assigned", "admin"];

const PLAIN = { username: "plain", password: "plain-password-1" };
const ASSIGNED = { username: "assigned", password: "assigned-password-1" };
const CREDENTIALS: Record<Exclude<Caller, "anonymous">, { username: string; password: string }> = {
  user: PLAIN,
  assigned: ASSIGNED,
  admin: ADMIN,
};

/** Routes that end the caller's session: each call gets a fresh one. */
const ENDS_SESSION = new Set(["POST /api/v1/auth/logout", "POST /logout"]);

let unique = 0;

/** Well-formed WebAuthn answers (their challenge is unknown, so they change nothing). */
const SAMPLE_ID = "A".repeat(22);
const SAMPLE_ATTESTATION = {
  id: SAMPLE_ID,
  rawId: SAMPLE_ID,
  type: "public-key",
  response: { clientDataJSON: "e30", attestationObject: "oA" },
};
const SAMPLE_ASSERTION = {
  id: SAMPLE_ID,
  rawId: SAMPLE_ID,
  type: "public-key",
  response: { clientDataJSON: "e30", authenticatorData: "AA", signature: "AA" },
};

/** A valid body per route with a body schema (a 400 on these would hide a wrong permission). */
const SAMPLE_BODIES: Record<string, (caller: Caller) => unknown> = {
  "POST /api/v1/auth/setup": () => ({ username: "second-admin", password: "second-password-1" }),
  "POST /api/v1/auth/login": () => ADMIN,
  "POST /api/v1/auth/change-password": (caller) => {
    // The same password again: the call succeeds and nothing changes for later calls.
    const password = caller === "anonymous" ? "whatever-password-1" : CREDENTIALS[caller].password;
    return { current_password: password, new_password: password };
  },
  "POST /api/v1/auth/webauthn/register/finish": () => ({ challenge_id: "spent", response: SAMPLE_ATTESTATION }),
  "PATCH /api/v1/auth/webauthn/credentials/:credId": () => ({ name: "Laptop" }),
  "POST /api/v1/auth/webauthn/login/begin": () => ({}),
  "POST /api/v1/auth/webauthn/login/finish": () => ({ challenge_id: "spent", response: SAMPLE_ASSERTION }),
  "POST /api/v1/users": () => ({ username: `made-${++unique}`, password: "made-password-1", role: "user" }),
  "PUT /api/v1/users/:userId/role": () => ({ role: "user" }),
  "PUT /api/v1/users/:userId/instances": () => ({ instance_ids: [] }),
  "POST /api/v1/users/:userId/reset-password": () => ({ password: PLAIN.password }),
  "PUT /api/v1/settings": () => ({ audit_retention_days: 90 }),
  "POST /api/v1/instances": () => ({ display_name: "Matrix bot" }),
  "PUT /api/v1/instances/:id/allowed-source-ips": () => ({ allowed_source_ips: [] }),
  "PUT /api/v1/instances/reorder": () => ({ instance_ids: [1] }),
  "POST /api/v1/instances/:id/files/create": () => ({ path: "/home/agent/matrix.txt", content: "x" }),
  "POST /api/v1/instances/:id/files/mkdir": () => ({ path: "/home/agent/matrix" }),
  "POST /api/v1/instances/:id/files/rename": () => ({ old_path: "/home/agent/a", new_path: "/home/agent/b" }),
  "PUT /api/v1/instances/:id": () => ({ display_name: "A" }),
  "POST /api/v1/instances/:id/update-image": () => ({}),
  "POST /api/v1/instances/:id/config/validate": () => ({ content: "{}" }),
  "PUT /api/v1/models": () => ({}),
  "PUT /api/v1/instances/:id/models": () => ({}),
  "PUT /api/v1/instances/:id/config": () => ({ content: "{}", base_hash: "0".repeat(64) }),
};

type Outcome = "allowed" | "401" | "403" | "login-redirect";

/** What the policy promises for `caller` on a route with `permission`. */
function expectedOutcome(route: RouteInfo, caller: Caller): Outcome {
  if (route.permission === "public") return "allowed";
  if (caller === "anonymous") return route.kind === "page" ? "login-redirect" : "401";
  switch (route.permission) {
    case "authenticated":
      return "allowed";
    case "admin":
    case "metrics":
      return caller === "admin" ? "allowed" : "403";
    case "instance":
      return caller === "user" ? "403" : "allowed";
  }
}

interface World {
  t: TestApp;
  cookies: Record<Exclude<Caller, "anonymous">, string>;
  plainId: number;
}

/** A concrete URL for a registry path: `:id` → instance 1, `:userId` → the plain user (or `userId`). */
function concretePath(path: string, userId: number): string {
  const url = path
    .replace(/:id\b/g, "1")
    .replace(/:tab\b/g, "terminal")
    .replace(/:sid\b/g, "main")
    .replace(/:rid\b/g, "main-20260101T000000Z-0000abcd")
    .replace(/:rolloutId\b/g, "00000000-0000-4000-8000-000000000000")
    .replace(/:userId\b/g, String(userId))
    .replace(/:credId\b/g, SAMPLE_ID)
    .replace(/\/\*$/, "/app.css");
  assert.ok(!/[:*]/.test(url), `no sample value for a parameter of ${path}; teach concretePath about it`);
  return url;
}

/** Signs back in any caller whose session a route ended (change of password, reset, ...). */
async function ensureSessions(w: World): Promise<void> {
  for (const caller of ["user", "assigned", "admin"] as const) {
    const me = await w.t.request("GET", "/api/v1/auth/me", { cookie: w.cookies[caller] });
    if (me.status === 401) {
      w.cookies[caller] = await w.t.login(CREDENTIALS[caller].username, CREDENTIALS[caller].password);
    } else assert.equal(me.status, 200);
  }
}

async function call(w: World, route: RouteInfo, caller: Caller): Promise<Response> {
  const key = keyOf(route);
  let userId = w.plainId;
  if (key === "DELETE /api/v1/users/:userId") {
    userId = (await w.t.services.users.create(`throwaway-${++unique}`, "throwaway-password-1", "user")).id;
  }
  let cookie: string | undefined;
  if (caller !== "anonymous") {
    cookie = ENDS_SESSION.has(key)
      ? await w.t.login(CREDENTIALS[caller].username, CREDENTIALS[caller].password)
      : w.cookies[caller];
  }
  const body = SAMPLE_BODIES[key]?.(caller);
  return await w.t.request(route.method, concretePath(route.path, userId), { cookie, body });
}

Deno.test("each route answers each kind of caller as its permission says", async () => {
  const t = await testApp();
  try {
    const admin = await t.setupAdmin();
    const plainId = await t.createUser(admin, PLAIN.username, "user", PLAIN.password);
    const assignedId = await t.createUser(admin, ASSIGNED.username, "user", ASSIGNED.password);
    const instance = t.services.instances.insert("bot-a", "A");
    assert.equal(instance.id, 1);
    const assign = await t.request("PUT", `/api/v1/users/${assignedId}/instances`, {
      cookie: admin,
      body: { instance_ids: [1] },
    });
    assert.equal(assign.status, 200);
    // The config editor's setting lets assigned users in, so its routes follow `instance` here (its
    // admin-only default is tested with the plugin, tests/plugins/config/).
    t.services.settings.update({ config_editor_access: "assigned" });
    const w: World = {
      t,
      plainId,
      cookies: {
        admin,
        user: await t.login(PLAIN.username, PLAIN.password),
        assigned: await t.login(ASSIGNED.username, ASSIGNED.password),
      },
    };

    const bodyRoutesWithoutSample = t.registry.routes.filter((r) => r.body && !(keyOf(r) in SAMPLE_BODIES)).map(keyOf);
    assert.deepEqual(bodyRoutesWithoutSample, [], "routes with a body schema need a sample body here");

    const failures: string[] = [];
    let checked = 0;
    for (const route of t.registry.routes) {
      for (const caller of CALLERS) {
        const expected = expectedOutcome(route, caller);
        const res = await call(w, route, caller);
        // An event stream that was let in never ends by itself: its status is the answer.
        const text = route.kind === "stream" && res.status === 200 ? (await res.body?.cancel(), "") : await res.text();
        const what = `${keyOf(route)} as ${caller}: expected ${expected}, got ${res.status} ${text.slice(0, 160)}`;
        const type = res.headers.get("content-type") ?? "";
        const code = type.includes("json") && text ? JSON.parse(text)?.code : undefined;
        // API answers carry the error code; pages may answer with an HTML error page instead.
        const denied = (status: number, expectedCode: string) =>
          res.status === status && (code === expectedCode || (route.kind === "page" && type.startsWith("text/html")));
        let ok: boolean;
        switch (expected) {
          case "allowed":
            // Past authorization; with no runtime backend here, lifecycle routes answer 503 NO_BACKEND.
            ok = res.status !== 401 && res.status !== 403 && (res.status < 500 || code === "NO_BACKEND") &&
              !(res.status === 400 && keyOf(route) in SAMPLE_BODIES &&
                ["VALIDATION_FAILED", "MALFORMED_JSON"].includes(code));
            break;
          case "401":
            ok = denied(401, "UNAUTHENTICATED");
            break;
          case "403":
            ok = denied(403, "FORBIDDEN");
            break;
          case "login-redirect":
            ok = res.status === 302 && (res.headers.get("location") ?? "").startsWith("/login?next=");
            break;
        }
        if (!ok) failures.push(what);
        checked++;
        await ensureSessions(w);
      }
    }
    assert.deepEqual(failures, []);
    assert.equal(checked, t.registry.routes.length * CALLERS.length);

    // The calls above left the callers as they were.
    assert.deepEqual(t.services.users.assignedInstanceIds(assignedId), [1]);
    assert.deepEqual(t.services.users.assignedInstanceIds(plainId), []);
    assert.equal(t.services.users.get(plainId).role, "user");
    assert.equal(t.services.users.adminCount(), 1);
  } finally {
    await t.close();
  }
});

Deno.test("a non-numeric path id answers 400 BAD_REQUEST, never 500", async () => {
  const t = await testApp();
  try {
    const admin = await t.setupAdmin();
    // An instance route if one exists (its id is parsed by the policy), else a user route.
    const instanceRoute = t.registry.routes.find((r) => r.path.startsWith("/api/v1/instances/:id"));
    const probe = instanceRoute ?? t.registry.find("PUT", "/api/v1/users/:userId/role")!;
    const probePath = probe.path.replace(/:\w+/g, "abc");
    const res = await t.request(probe.method, probePath, {
      cookie: admin,
      body: SAMPLE_BODIES[keyOf(probe)]?.("admin"),
    });
    assert.equal(res.status, 400, `${probe.method} ${probePath}`);
    const body = await res.json();
    assert.deepEqual(Object.keys(body).sort(), ["code", "detail"]);
    assert.equal(body.code, "BAD_REQUEST");
    assert.match(body.detail, /id.*"abc"/i, "the message names the parameter and the bad value");

    // Every route with a path parameter, and a few more shapes of bad id.
    const withParams = t.registry.routes.filter((r) => /:\w+/.test(r.path));
    assert.ok(withParams.length > 0);
    for (const route of withParams) {
      for (const bad of ["abc", "0", "-1", "1.5", "01", "1e3", "%20"]) {
        const path = route.path.replace(/:\w+/g, bad);
        const res = await t.request(route.method, path, {
          cookie: admin,
          body: SAMPLE_BODIES[keyOf(route)]?.("admin"),
        });
        assert.equal(res.status, 400, `${route.method} ${path}`);
        if (route.kind === "page") {
          assert.match(await res.text(), /data-code="BAD_REQUEST"/, `${route.method} ${path} (HTML error page)`);
        } else {
          assert.equal((await res.json()).code, "BAD_REQUEST", `${route.method} ${path}`);
        }
      }
    }
    assert.equal(t.services.users.count(), 1, "nothing was created or deleted");
  } finally {
    await t.close();
  }
});
