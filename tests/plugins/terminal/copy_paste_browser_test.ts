import assert from "node:assert/strict";
import { SKIP_BROWSER } from "../../_helpers/browser.ts";
import { terminalPlugin } from "../../../plugins/terminal/mod.tsx";
import { uiWorld } from "../../harness/ui_world.ts";

Deno.test({
  name: "browser: the Terminal tab's Copy and Paste buttons use the clipboard and leave the keyboard in the terminal",
  ignore: SKIP_BROWSER,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const w = await uiWorld(crypto.randomUUID().slice(0, 6), [terminalPlugin()]);
    const { server, id } = w;
    try {
      const page = await w.page();
      await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
      const rows = page.locator(".terminal-box .xterm-rows");
      await page.goto(`${server.url}/instances/${id}/terminal`);
      await page.waitForSelector('[data-island="terminal_view"][data-hydrated="true"]');
      await page.locator('[data-testid="terminal-status"]', { hasText: "Connected" }).waitFor({ timeout: 30_000 });
      await rows.filter({ hasText: "$" }).waitFor({ timeout: 30_000 });
      await page.click(".terminal-box");
      await page.keyboard.type("echo copy-$(( 6 * 7 ))\n");

      // Copy: a double-click selects the word on the screen; the button puts it on the clipboard.
      const line = rows.locator("> div", { hasText: /^copy-42\s*$/ });
      await line.waitFor({ timeout: 30_000 });
      const box = (await line.boundingBox())!;
      await page.mouse.dblclick(box.x + 4, box.y + box.height / 2); // xterm's screen layer takes the mouse
      await page.getByRole("button", { name: "Copy" }).click();
      await page.waitForFunction(async () => await navigator.clipboard.readText() === "copy-42", undefined, {
        timeout: 10_000,
      });
      await page.keyboard.type("echo after-copy\n");
      await rows.locator("> div", { hasText: /^after-copy\s*$/ }).waitFor({ timeout: 10_000 });

      // Paste: the clipboard's text goes to the shell, and typing goes on in the terminal.
      await page.evaluate(() => navigator.clipboard.writeText("echo pasted-$(( 1 + 1 ))"));
      await page.getByRole("button", { name: "Paste" }).click();
      await rows.filter({ hasText: "echo pasted-$(( 1 + 1 ))" }).waitFor({ timeout: 10_000 });
      await page.keyboard.type("-then-typed\n");
      await rows.locator("> div", { hasText: /^pasted-2-then-typed\s*$/ }).waitFor({ timeout: 10_000 });
      const other = w.errors.filter((e) => !/Applying inline style violates/.test(e));
      assert.deepEqual(other, []);
    } finally {
      await w.close();
    }
  },
});
