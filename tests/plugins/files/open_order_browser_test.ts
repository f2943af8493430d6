import assert from "node:assert/strict";
import { SKIP_BROWSER } from "../../_helpers/browser.ts";
import { ownedFile } from "./_files_fixture.ts";
import { filesPage, row, WAIT } from "./_files_browser.ts";

Deno.test({
  name: "browser: the Files tab's editor shows the file clicked last, even when an earlier one answers later",
  ignore: SKIP_BROWSER,
  async fn() {
    const w = await filesPage();
    const { page } = w;
    try {
      await ownedFile(`${w.root}/slow.txt`, "slow\n", w.owner);
      await ownedFile(`${w.root}/fast.txt`, "fast\n", w.owner);
      await w.open();
      await row(page, "fast.txt").waitFor(WAIT);
      // The read of slow.txt is held until fast.txt is open.
      let release = () => {};
      const held = new Promise<void>((r) => release = r);
      await page.route("**/files/read?*", async (route) => {
        if (new URL(route.request().url()).searchParams.get("path")?.endsWith("/slow.txt")) {
          await held;
        }
        await route.continue();
      });
      const slowAnswered = page.waitForResponse((r) => r.url().includes("slow.txt"));
      await row(page, "slow.txt").locator('[data-testid="files-open"]').click();
      await row(page, "fast.txt").locator('[data-testid="files-open"]').click();
      const editor = page.locator('[data-testid="file-editor"]');
      await editor.locator("h2", { hasText: `${w.root}/fast.txt` }).waitFor(WAIT);
      release();
      await slowAnswered;
      await new Promise((r) => setTimeout(r, 200)); // time for a late answer to be (wrongly) shown
      assert.match(await editor.locator("h2").textContent() ?? "", /\/fast\.txt$/);
      assert.equal(await page.inputValue('[data-testid="editor-text"]'), "fast\n");
      assert.deepEqual(w.errors, []);
    } finally {
      await w.close();
    }
  },
});
