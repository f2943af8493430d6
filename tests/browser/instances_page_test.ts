import assert from "node:assert/strict";
import { launchBrowser, SHOTS, SKIP_BROWSER } from "../_helpers/browser.ts";
import { loadConfig } from "../../core/config.ts";
import { silentLogger } from "../../core/log.ts";
import { startServer } from "../../core/server.ts";
import { builtinPlugins } from "../../plugins/mod.ts";
import { dockerPlugin } from "../../plugins/docker/mod.ts";
import type { DockerBackend } from "../../plugins/docker/backend.ts";
import { coreRoutes, errorPage } from "../../routes/mod.ts";
import { AGENT_IMAGE, buildAgentImage } from "../../scripts/build_agent_image.ts";
import { startPodman } from "../harness/podman.ts";

Deno.test({
  name:
    "browser: an admin sets defaults, creates an instance with live progress, sees it running, stops, starts and deletes it",
  ignore: SKIP_BROWSER,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const podman = await startPodman();
    await buildAgentImage(undefined, podman.env);
    const tag = crypto.randomUUID().slice(0, 6);
    const network = `claworc-ui-${tag}`;
    const dataPath = await Deno.makeTempDir({ prefix: "claworc-ui-inst-" });
    const config = loadConfig((n) =>
      ({ CLAWORC_DATA_PATH: dataPath, CLAWORC_PORT: "0", CLAWORC_AGENT_IMAGE: AGENT_IMAGE })[n]
    );
    const plugins = [
      ...builtinPlugins().filter((p) => p.name !== "docker"),
      dockerPlugin({ socketPath: podman.socketPath, network }),
    ];
    const server = await startServer(config, { routes: coreRoutes, plugins, errorPage }, { log: silentLogger });
    const browser = await launchBrowser();
    try {
      const setup = await fetch(`${server.url}/api/v1/auth/setup`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: server.url },
        body: JSON.stringify({ username: "admin", password: "admin-password-1" }),
      });
      const [name, value] = setup.headers.getSetCookie()[0].split(";")[0].split("=");
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      await context.addCookies([{ name, value, url: server.url }]);
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));

      // Settings: the engine, and the defaults new instances get.
      await page.goto(`${server.url}/settings`);
      await page.locator('[data-testid="engine-available"]', { hasText: "answering" }).waitFor();
      await page.waitForSelector('[data-island="instance_defaults_form"][data-hydrated="true"]');
      await page.fill('[data-testid="default_cpu_limit"]', "1");
      await page.click('[data-testid="save-defaults"]');
      await page.locator('[data-testid="defaults-message"]', { hasText: "Defaults saved" }).waitFor();

      // Create from the dashboard: the dialog is prefilled, then shows every step until ready.
      await page.goto(`${server.url}/`);
      await page.waitForSelector('[data-island="create_instance_form"][data-hydrated="true"]');
      await page.click('[data-testid="new-instance"]');
      assert.equal(await page.inputValue('[data-testid="new-cpu"]'), "1", "prefilled from the saved default");
      assert.equal(await page.inputValue('[data-testid="new-image"]'), AGENT_IMAGE);
      await page.fill('[data-testid="new-instance-name"]', `UI bot ${tag}`);
      await page.fill('[data-testid="new-memory"]', "3Gi");
      await page.click('[data-testid="create-instance"]');
      await page.waitForSelector('[data-testid="create-progress"] [data-testid="operation"]');
      await page.locator('[data-testid="step-ssh"][data-state="done"]').waitFor({ timeout: 60_000 });
      await page.screenshot({ path: `${SHOTS}/10-create-progress.png`, fullPage: true });
      await page.locator('[data-testid="operation"][data-state="succeeded"]').waitFor({ timeout: 180_000 });
      const row = page.locator(`[data-testid="instance-row-bot-ui-bot-${tag}"]`);
      await row.locator('[data-testid="instance-status"]', { hasText: /^running$/ }).waitFor();
      assert.match(await row.textContent() ?? "", /1 CPU · 3Gi/);
      await row.locator('[data-testid="instance-ssh"]', { hasText: /^connected$/ }).waitFor();
      assert.match(await row.locator('[data-testid="instance-assigned"]').textContent() ?? "", /admins only/);
      await page.screenshot({ path: `${SHOTS}/11-dashboard-running.png`, fullPage: true });

      // Clone from the dashboard: a second row that becomes ready by itself; then put it first.
      await row.locator('[data-testid="row-clone"]').click();
      const copy = page.locator(`[data-testid="instance-row-bot-ui-bot-${tag}-copy"]`);
      await copy.locator('[data-testid="instance-status"]', { hasText: /^running$/ }).waitFor({ timeout: 120_000 });
      await copy.locator('[data-testid="row-up"]').click();
      await page.locator("tbody tr").first().locator(`[data-testid="instance-link-bot-ui-bot-${tag}-copy"]`).waitFor();
      await page.reload();
      await page.waitForSelector('[data-island="instances_dashboard"][data-hydrated="true"]');
      assert.equal(
        await page.locator("tbody tr").first().getAttribute("data-testid"),
        `instance-row-bot-ui-bot-${tag}-copy`,
        "the order is kept by the server",
      );
      await page.screenshot({ path: `${SHOTS}/12-dashboard-clone-first.png`, fullPage: true });
      // Ready once its operation ends (the gateway comes up after SSH): then it may be deleted.
      await copy.locator('[data-testid="instance-step"]').waitFor({ state: "detached", timeout: 120_000 });
      await copy.locator('[data-testid="row-delete"]').click();
      await copy.locator('[data-testid="row-delete-confirm"]').click();
      await copy.waitFor({ state: "detached", timeout: 60_000 });

      // The instance page: header, tabs, live status, actions, edit.
      await page.click(`[data-testid="instance-link-bot-ui-bot-${tag}"]`);
      await page.waitForURL(/\/instances\/\d+\/chat$/);
      await page.click('[data-testid="instance-tabs"] a:text-is("SSH")');
      await page.waitForURL(/\/instances\/\d+\/ssh$/);
      await page.waitForSelector('[data-island="ssh_panel"][data-hydrated="true"]');
      await page.locator('[data-testid="ssh-state"]', { hasText: /^connected$/ }).waitFor({ timeout: 60_000 });
      assert.equal(
        await page.getAttribute('[data-testid="instance-tabs"] a[aria-current="page"]', "href"),
        new URL(page.url()).pathname,
      );
      await page.waitForSelector('[data-island="instance_actions"][data-hydrated="true"]');
      await page.click('[data-testid="instance-stop"]');
      await page.locator('[data-testid="instance-current-status"]', { hasText: /^stopped$/ }).waitFor({
        timeout: 60_000,
      });
      await page.click('[data-testid="instance-start"]');
      await page.locator('[data-testid="instance-current-status"]', { hasText: /^running$/ }).waitFor({
        timeout: 60_000,
      });
      await page.click('[data-testid="instance-edit"]');
      await page.fill('[data-testid="edit-display_name"]', `Renamed ${tag}`);
      await page.fill('[data-testid="edit-cpu_limit"]', "1500m");
      await page.click('[data-testid="edit-save"]');
      await page.locator('[data-testid="edit-message"]', { hasText: /^Saved/ }).waitFor();
      assert.equal(server.services.instances.findByName(`bot-ui-bot-${tag}`)?.display_name, `Renamed ${tag}`);
      assert.equal(server.services.instances.findByName(`bot-ui-bot-${tag}`)?.cpu_limit, "1500m");
      await page.screenshot({ path: `${SHOTS}/13-instance-page.png`, fullPage: true });

      // Delete from the dashboard, after confirming.
      await page.goto(`${server.url}/`);
      await page.waitForSelector('[data-island="instances_dashboard"][data-hydrated="true"]');
      await row.locator('[data-testid="row-delete"]').click();
      await row.locator('[data-testid="row-delete-confirm"]').click();
      await page.waitForSelector('[data-testid="no-instances"]', { timeout: 60_000 });
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      const backend = server.services.runtime.backend as DockerBackend | null;
      await backend?.remove(`bot-ui-bot-${tag}`).catch(() => {});
      await backend?.remove(`bot-ui-bot-${tag}-copy`).catch(() => {});
      await backend?.docker.getNetwork(network).remove().catch(() => {});
      await server.close();
      await podman.stop();
      await Deno.remove(dataPath, { recursive: true });
    }
  },
});
