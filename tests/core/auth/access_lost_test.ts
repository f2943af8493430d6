import assert from "node:assert/strict";
import { accessLost } from "../../../core/auth/access_lost.ts";
import { testApp } from "../../_helpers/harness.ts";

Deno.test("access re-checks: a valid sign-in that sees the instance holds; sign-out, demotion and unassignment end it", async () => {
  const t = await testApp();
  try {
    const admin = await t.setupAdmin();
    const { id } = t.services.instances.insert("bot-a", "A");
    const userId = await t.createUser(admin, "ann", "admin");
    const cookie = await t.login("ann", "ann-password-1");
    const token = cookie.split("=")[1];
    assert.equal(accessLost(t.services, token, id), null);
    // Demoted to a user who is not assigned: the current role counts, not the one at connect time.
    t.services.users.setRole(userId, "user");
    assert.deepEqual(accessLost(t.services, token, id), { code: 4003, reason: "You no longer have access." });
    t.services.users.setAssignedInstances(userId, [id]);
    assert.equal(accessLost(t.services, token, id), null);
    await t.request("POST", "/api/v1/auth/logout", { cookie });
    assert.deepEqual(accessLost(t.services, token, id), { code: 4001, reason: "Your session ended." });
  } finally {
    await t.close();
  }
});
