import assert from "node:assert/strict";
import { testApp } from "../_helpers/harness.ts";

async function loginIp(env: Record<string, string>, xff: string): Promise<string> {
  const t = await testApp(env);
  try {
    await t.setupAdmin();
    await t.request("POST", "/api/v1/auth/login", {
      body: { username: "admin", password: "wrong-password-x" },
      headers: { "x-forwarded-for": xff },
      ip: "10.0.0.2",
    });
    return t.services.audit.query({ action: "auth.login", outcome: "failure", limit: 1, offset: 0 }).entries[0].ip;
  } finally {
    await t.close();
  }
}

Deno.test("X-Forwarded-For is ignored unless a trusted proxy is configured", async () => {
  assert.equal(await loginIp({}, "203.0.113.1"), "10.0.0.2");
});

Deno.test("behind a trusted proxy the last X-Forwarded-For entry (the proxy's) is the client IP", async () => {
  assert.equal(await loginIp({ CLAWORC_TRUST_PROXY: "true" }, "1.2.3.4, 198.51.100.8"), "198.51.100.8");
});

Deno.test("ids beyond the safe integer range are refused with 400, never rounded", async () => {
  const t = await testApp();
  try {
    const admin = await t.setupAdmin();
    const res = await t.request("DELETE", "/api/v1/users/9007199254740993", { cookie: admin });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).code, "BAD_REQUEST");
  } finally {
    await t.close();
  }
});
