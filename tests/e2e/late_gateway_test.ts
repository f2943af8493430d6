import assert from "node:assert/strict";
import { STEP_TIMEOUTS } from "../../core/instances/lifecycle.ts";
import { instanceWorld } from "../harness/instance_world.ts";
import { until } from "../harness/pool.ts";

Deno.test({
  name:
    "a gateway slower than its step keeps the new instance running, reachable and explained; the reason clears when it answers",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    // The real agent image's gateway needs seconds to answer: a 1 ms step makes it late every time.
    const usual = STEP_TIMEOUTS.gateway;
    STEP_TIMEOUTS.gateway = 1;
    const tag = crypto.randomUUID().slice(0, 6);
    const w = await instanceWorld(tag, () => [], `Late ${tag}`).finally(() => STEP_TIMEOUTS.gateway = usual);
    const { t, admin, id } = w;
    try {
      const op = await (await t.request("GET", `/api/v1/instances/${id}/operation`, { cookie: admin })).json();
      assert.equal(op.state, "failed");
      assert.deepEqual(
        op.steps.map((s: { name: string; state: string }) => `${s.name} ${s.state}`).slice(-3),
        ["ssh done", "tunnels done", "gateway failed"],
      );

      // Kept, not rolled back: running, its container there, SSH working, the reason shown in the API.
      const row = async () =>
        (await (await t.request("GET", `/api/v1/instances/${id}`, { cookie: admin })).json()) as {
          status: string;
          status_reason: string;
        };
      const late = await row();
      assert.equal(late.status, "running");
      assert.match(late.status_reason, /^Agent gateway ready did not happen in time \(.+\); the instance runs/);
      assert.equal((await w.backend.status(w.name)).status, "running");
      assert.equal((await t.services.ssh.exec(id, "echo reachable")).stdout.trim(), "reachable");
      const audit = await (await t.request("GET", "/api/v1/audit-logs?action=instance.create", { cookie: admin }))
        .json() as { entries: { outcome: string; details: { step?: string; kept_running?: boolean } }[] };
      assert.ok(
        audit.entries.some((e) => e.outcome === "failure" && e.details.step === "gateway" && e.details.kept_running),
        JSON.stringify(audit).slice(0, 800),
      );

      // Once the gateway answers, the reason goes by itself; the instance was never stopped.
      await until(async () => (await row()).status_reason === "", 120_000, "the late reason to clear");
      assert.equal((await row()).status, "running");
      await t.services.ssh.waitForTunnel(id, "gateway", 5_000);
    } finally {
      await w.close();
    }
  },
});
