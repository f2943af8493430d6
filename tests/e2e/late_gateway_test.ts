import assert from "node:assert/strict";
import { STEP_TIMEOUTS } from "../../core/instances/lifecycle.ts";
import { SKIP_BROWSER } from "../_helpers/browser.ts";
import { until } from "../harness/pool.ts";
import { uiWorld } from "../harness/ui_world.ts";

const LATE = /^Agent gateway ready did not happen in time: The gateway tunnel did not answer .+\. The instance runs;/;

Deno.test({
  name:
    "a gateway slower than its step keeps the new instance running, reachable and explained (API and dashboard); the reason clears when it answers",
  ignore: SKIP_BROWSER,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    // The real agent image's gateway needs seconds to answer: a 1 ms step makes it late every time.
    const usual = STEP_TIMEOUTS.gateway;
    STEP_TIMEOUTS.gateway = 1;
    const tag = crypto.randomUUID().slice(0, 6);
    const w = await uiWorld(tag).finally(() => STEP_TIMEOUTS.gateway = usual);
    const { server, cookie, id } = w;
    const get = async (path: string) =>
      await (await fetch(`${server.url}/api/v1${path}`, { headers: { cookie } })).json();
    try {
      const op = await get(`/instances/${id}/operation`);
      assert.equal(op.state, "failed");
      assert.deepEqual(
        op.steps.map((s: { name: string; state: string }) => `${s.name} ${s.state}`).slice(-3),
        ["ssh done", "tunnels done", "gateway failed"],
      );

      // Kept, not rolled back: running, its container there, SSH working, the reason in the API.
      const late = await get(`/instances/${id}`);
      assert.equal(late.status, "running");
      assert.match(late.status_reason, LATE);
      assert.equal((await server.services.runtime.backend!.status(w.name)).status, "running");
      assert.equal((await server.services.ssh.exec(id, "echo reachable")).stdout.trim(), "reachable");
      const audit = await get("/audit-logs?action=instance.create") as {
        entries: { outcome: string; details: { step?: string; kept_running?: boolean } }[];
      };
      assert.ok(
        audit.entries.some((e) => e.outcome === "failure" && e.details.step === "gateway" && e.details.kept_running),
        JSON.stringify(audit).slice(0, 800),
      );

      // The dashboard shows it running with the reason, and drops the reason live once the gateway answers.
      const page = await w.page();
      await page.goto(`${server.url}/`);
      const row = page.locator(`[data-testid="instance-row-${w.name}"]`);
      await row.locator('[data-testid="instance-status"]', { hasText: "running" }).waitFor();
      const shown = await row.locator('[data-testid="instance-reason"]').textContent().catch(() => null);
      const cleared = (await get(`/instances/${id}`)).status_reason === "";
      // The gateway may already have answered while the page loaded; then the row must show no reason.
      if (!cleared) assert.match(String(shown), LATE);
      await until(
        async () => (await get(`/instances/${id}`)).status_reason === "",
        120_000,
        "the late reason to clear",
      );
      await row.locator('[data-testid="instance-reason"]').waitFor({ state: "detached", timeout: 10_000 });
      assert.equal((await get(`/instances/${id}`)).status, "running");
      await server.services.ssh.waitForTunnel(id, "gateway", 5_000);
      assert.deepEqual(w.errors, []);
    } finally {
      await w.close();
    }
  },
});
