import assert from "node:assert/strict";
import { launchBrowser, SHOTS, SKIP_BROWSER } from "../../_helpers/browser.ts";
import { loadConfig } from "../../../core/config.ts";
import { silentLogger } from "../../../core/log.ts";
import { startServer } from "../../../core/server.ts";
import { builtinPlugins } from "../../../plugins/mod.ts";
import { dockerPlugin } from "../../../plugins/docker/mod.ts";
import type { DockerBackend } from "../../../plugins/docker/backend.ts";
import { coreRoutes, errorPage } from "../../../routes/mod.ts";
import { AGENT_IMAGE, buildAgentImage } from "../../../scripts/build_agent_image.ts";
import { applyOpenclawConfigForTest, fakeProvider, startFakeModel } from "../../harness/agent_model.ts";
import { startPodman } from "../../harness/podman.ts";
import { until } from "../../harness/pool.ts";

Deno.test({
  name: "browser: the Chat tab streams a reply from the real gateway, and the conversation survives a reload",
  ignore: SKIP_BROWSER,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const podman = await startPodman();
    await buildAgentImage(undefined, podman.env);
    const tag = crypto.randomUUID().slice(0, 6);
    const network = `claworc-chat-ui-${tag}`;
    const dataPath = await Deno.makeTempDir({ prefix: "claworc-chat-ui-" });
    const config = loadConfig((n) =>
      ({ CLAWORC_DATA_PATH: dataPath, CLAWORC_PORT: "0", CLAWORC_AGENT_IMAGE: AGENT_IMAGE })[n]
    );
    const plugins = [
      ...builtinPlugins().filter((p) => p.name !== "docker"),
      dockerPlugin({ socketPath: podman.socketPath, network }),
    ];
    const server = await startServer(config, { routes: coreRoutes, plugins, errorPage }, { log: silentLogger });
    const browser = await launchBrowser();
    let name = "";
    try {
      const setup = await fetch(`${server.url}/api/v1/auth/setup`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: server.url },
        body: JSON.stringify({ username: "admin", password: "admin-password-1" }),
      });
      const cookie = setup.headers.getSetCookie()[0].split(";")[0];
      const created = await fetch(`${server.url}/api/v1/instances`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: server.url, cookie },
        body: JSON.stringify({ display_name: `Chat UI ${tag}` }),
      });
      assert.equal(created.status, 201);
      const { id } = await created.json();
      name = server.services.instances.get(id).name;
      await until(() => server.services.ssh.status(id).state === "connected", 240_000, "SSH to the new instance");
      await startFakeModel(server, id);
      await applyOpenclawConfigForTest(server, id, {
        gateway: { mode: "local", bind: "loopback", port: 18789 },
        models: { providers: { fake: fakeProvider("ui-key") } },
        agents: { defaults: { model: { primary: "fake/fake-model" } } },
      });

      const [k, v] = cookie.split("=");
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      await context.addCookies([{ name: k, value: v, url: server.url }]);
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      // The instance page opens on its first tab: Chat.
      await page.goto(`${server.url}/instances/${id}`);
      await page.waitForURL(`${server.url}/instances/${id}/chat`);
      await page.waitForSelector('[data-island="chat_panel"][data-hydrated="true"]');
      // A gateway still starting refuses; the island retries by itself until it is connected.
      await page.locator('[data-testid="chat-link"]', { hasText: "Connected" }).waitFor({ timeout: 120_000 });
      await page.fill('[data-testid="chat-input"]', `Hello there ECHO-${tag} with **bold**`);
      await page.click('[data-testid="chat-send"]');
      await page.locator('[data-testid="chat-user"]', { hasText: `ECHO-${tag}` }).waitFor({ timeout: 10_000 });
      const reply = page.locator('[data-testid="chat-assistant"]', { hasText: `Heard ECHO-${tag}.` });
      await reply.waitFor({ timeout: 120_000 });
      await page.screenshot({ path: `${SHOTS}/chat-tab.png` });
      // The user's own text is shown as typed (no Markdown, no HTML); the reply as Markdown.
      assert.equal(
        await page.locator('[data-testid="chat-user"] .chat-user-text').first().textContent(),
        `Hello there ECHO-${tag} with **bold**`,
      );

      await page.reload();
      await page.waitForSelector('[data-island="chat_panel"][data-hydrated="true"]');
      await page.locator('[data-testid="chat-assistant"]', { hasText: `Heard ECHO-${tag}.` }).waitFor({
        timeout: 60_000,
      });
      assert.equal(await page.locator('[data-testid="chat-user"]').count(), 1);
      await page.screenshot({ path: `${SHOTS}/chat-tab-after-reload.png` });
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      if (name) await (server.services.runtime.backend as DockerBackend)?.remove(name).catch(() => {});
      await (server.services.runtime.backend as DockerBackend)?.docker.getNetwork(network).remove().catch(() => {});
      await server.close();
      await podman.stop();
      await Deno.remove(dataPath, { recursive: true });
    }
  },
});
