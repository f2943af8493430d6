import assert from "node:assert/strict";
import { builtinPlugins } from "../../../plugins/mod.ts";
import { terminalPlugin } from "../../../plugins/terminal/mod.tsx";
import { ORIGIN, testApp } from "../../_helpers/harness.ts";

const UPGRADE = {
  upgrade: "websocket",
  connection: "Upgrade",
  "sec-websocket-version": "13",
  "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
};

Deno.test("terminal routes: permissions, validation and Origin before any SSH work (no backend)", async () => {
  const t = await testApp({}, [...builtinPlugins().filter((p) => p.name !== "terminal"), terminalPlugin()]);
  try {
    const admin = await t.setupAdmin();
    await t.createUser(admin, "plain");
    const plain = await t.login("plain", "plain-password-1");
    const { id } = t.services.instances.insert("bot-t", "T");
    const base = `/api/v1/instances/${id}/terminal`;
    const call = (method: string, path: string, cookie?: string, headers: Record<string, string> = {}) =>
      t.request(method, path, { cookie, headers: { origin: ORIGIN, ...headers } });

    const routes = t.registry.routes.filter((r) => r.plugin === "terminal")
      .map((r) => [r.method, r.path, r.permission, r.kind]);
    assert.deepEqual(routes, [
      ["GET", "/api/v1/instances/:id/terminal", "instance", "websocket"],
      ["GET", "/api/v1/instances/:id/terminal/sessions", "instance", "api"],
      ["DELETE", "/api/v1/instances/:id/terminal/sessions/:sid", "instance", "api"],
      ["GET", "/api/v1/instances/:id/terminal/recordings", "instance", "api"],
      ["GET", "/api/v1/instances/:id/terminal/recordings/:rid", "instance", "api"],
      ["DELETE", "/api/v1/instances/:id/terminal/recordings/:rid", "instance", "api"],
    ]);
    for (const [method, path] of [["GET", base], ["GET", `${base}/sessions`], ["DELETE", `${base}/sessions/main`]]) {
      assert.equal((await call(method, path, undefined, UPGRADE)).status, 401, `${method} ${path} anonymous`);
      assert.equal((await call(method, path, plain, UPGRADE)).status, 403, `${method} ${path} unassigned`);
    }
    // Past authorization: a plain GET is not a WebSocket; bad ids and sizes are refused; then SSH is needed.
    assert.equal((await call("GET", base, admin)).status, 400);
    assert.equal((await call("GET", `${base}?session_id=a;b`, admin, UPGRADE)).status, 400);
    assert.equal((await call("GET", `${base}?cols=wide`, admin, UPGRADE)).status, 400);
    assert.equal((await call("DELETE", `${base}/sessions/a.b`, admin)).status, 400);
    for (const [method, path] of [["GET", base], ["GET", `${base}/sessions`], ["DELETE", `${base}/sessions/main`]]) {
      const res = await call(method, path, admin, UPGRADE);
      assert.equal(res.status, 503, `${method} ${path}: no backend, no SSH`);
      assert.equal((await res.json()).code, "NO_BACKEND");
    }
    const cross = await call("GET", base, admin, { ...UPGRADE, origin: "http://evil.test" });
    assert.equal(cross.status, 403);
    assert.equal((await cross.json()).code, "ORIGIN_REJECTED");
    assert.equal((await call("GET", `/api/v1/instances/999/terminal`, admin, UPGRADE)).status, 404);
  } finally {
    await t.close();
  }
});
