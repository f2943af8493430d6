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
  name: "browser: an admin creates an instance from the dashboard, sees SSH connect, stops, starts and deletes it",
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

      await page.goto(`${server.url}/`);
      await page.waitForSelector('[data-island="create_instance_form"][data-hydrated="true"]');
      await page.fill('[data-testid="new-instance-name"]', `UI bot ${tag}`);
      await page.click('[data-testid="create-instance"]');
      await page.waitForURL(/\/instances\/\d+$/);
      await page.waitForSelector('[data-island="ssh_panel"][data-hydrated="true"]');
      await page.locator('[data-testid="ssh-state"]', { hasText: /^connected$/ }).waitFor({ timeout: 60_000 });
      await page.screenshot({ path: `${SHOTS}/11-instance-created.png`, fullPage: true });

      await page.waitForSelector('[data-island="instance_actions"][data-hydrated="true"]');
      await page.click('[data-testid="instance-stop"]');
      await page.waitForSelector('[data-testid="instance-action-result"][role="status"]');
      assert.match(await page.textContent('[data-testid="instance-action-result"]') ?? "", /stopped/);
      await page.click('[data-testid="instance-start"]');
      await page.locator('[data-testid="instance-action-result"]', { hasText: "running" }).waitFor({ timeout: 60_000 });
      await page.click('[data-testid="instance-delete"]');
      await page.click('[data-testid="instance-delete-confirm"]');
      await page.waitForURL(`${server.url}/`);
      await page.waitForSelector('[data-testid="no-instances"]');
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      const backend = server.services.runtime.backend as DockerBackend | null;
      await backend?.remove(`bot-ui-bot-${tag}`).catch(() => {});
      await backend?.docker.getNetwork(network).remove().catch(() => {});
      await server.close();
      await podman.stop();
      await Deno.remove(dataPath, { recursive: true });
    }
  },
});
