import assert from "node:assert/strict";
import { SKIP_BROWSER } from "../../_helpers/browser.ts";
import { terminalPlugin } from "../../../plugins/terminal/mod.tsx";
import { uiWorld } from "../../harness/ui_world.ts";

Deno.test({
  name:
    "browser: a Terminal tab whose session ends (closed elsewhere, or its shell exits) says why and leaves the tabs",
  ignore: SKIP_BROWSER,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const w = await uiWorld(crypto.randomUUID().slice(0, 6), [terminalPlugin()]);
    const { server, id } = w;
    try {
      const page = await w.page();
      page.on("console", (m) => m.type() === "error" && w.errors.push(m.text()));
      const status = page.locator('[data-testid="terminal-status"]');
      const rows = page.locator(".terminal-box .xterm-rows");
      const tabs = () => page.locator('[role="tab"]').allTextContents();
      await page.goto(`${server.url}/instances/${id}/terminal`);
      await page.waitForSelector('[data-island="terminal_view"][data-hydrated="true"]');
      await status.filter({ hasText: "Connected" }).waitFor({ timeout: 30_000 });
      // Listed by the server (with its owner) once its socket has attached.
      await page.locator('[data-testid="terminal-tab-main"][title="Owner: admin"]').waitFor({ timeout: 30_000 });
      /** Waits until the tabs are `want` (listings answer at their own pace). */
      const tabsAre = async (want: string[]) => {
        for (const end = Date.now() + 15_000; Date.now() < end;) {
          if (JSON.stringify(await tabs()) === JSON.stringify(want)) return;
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.deepEqual(await tabs(), want);
      };

      // A second session, then closed through the API (as from another browser): the tab says who closed it
      // and the session's tab goes.
      await page.click('[data-testid="terminal-new"]');
      const other = await page.locator('[role="tab"][aria-selected="true"]').textContent() ?? "";
      assert.match(other, /^s-[0-9a-f]+$/);
      // Listed by the server (with its owner) once its socket has attached.
      await page.locator(`[data-testid="terminal-tab-${other}"][title="Owner: admin"]`).waitFor({ timeout: 30_000 });
      await status.filter({ hasText: "Connected" }).waitFor({ timeout: 30_000 });
      await tabsAre(["main", other]);
      const closed = await fetch(`${server.url}/api/v1/instances/${id}/terminal/sessions/${other}`, {
        method: "DELETE",
        headers: { origin: server.url, cookie: w.cookie },
      });
      assert.equal(closed.status, 204, await closed.text());
      await status.filter({ hasText: "The session was closed by admin." }).waitFor({ timeout: 30_000 });
      await page.locator(`[data-testid="terminal-tab-${other}"]`).waitFor({ state: "detached", timeout: 5_000 });
      assert.deepEqual(await tabs(), ["main"]);

      // The shell of the main session exits: the status says so and its tab goes too.
      await page.click('[data-testid="terminal-tab-main"]');
      await status.filter({ hasText: "Connected" }).waitFor({ timeout: 30_000 });
      await rows.filter({ hasText: "$" }).waitFor({ timeout: 30_000 });
      await page.click(".terminal-box");
      await page.keyboard.type("exit\n");
      await status.filter({ hasText: "The shell exited." }).waitFor({ timeout: 30_000 });
      await page.locator('[data-testid="terminal-tab-main"]').waitFor({ state: "detached", timeout: 5_000 });
      assert.deepEqual(await tabs(), []);
      const other2 = w.errors.filter((e) => !/Applying inline style violates/.test(e));
      assert.deepEqual(other2, []);
    } finally {
      await w.close();
    }
  },
});
