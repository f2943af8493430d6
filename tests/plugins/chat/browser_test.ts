import assert from "node:assert/strict";
import { SHOTS, SKIP_BROWSER } from "../../_helpers/browser.ts";
import { applyOpenclawConfigForTest, fakeProvider, startFakeModel } from "../../harness/agent_model.ts";
import { uiWorld } from "../../harness/ui_world.ts";

Deno.test({
  name: "browser: the Chat tab streams a reply from the real gateway, and the conversation survives a reload",
  ignore: SKIP_BROWSER,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const tag = crypto.randomUUID().slice(0, 6);
    const w = await uiWorld(tag);
    const { server, id } = w;
    try {
      await startFakeModel(server, id);
      await applyOpenclawConfigForTest(server, id, {
        gateway: { mode: "local", bind: "loopback", port: 18789 },
        models: { providers: { fake: fakeProvider("ui-key") } },
        agents: { defaults: { model: { primary: "fake/fake-model" } } },
      });
      const page = await w.page();
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
      assert.deepEqual(w.errors, []);
    } finally {
      await w.close();
    }
  },
});
