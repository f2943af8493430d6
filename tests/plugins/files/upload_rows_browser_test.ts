import assert from "node:assert/strict";
import { SKIP_BROWSER } from "../../_helpers/browser.ts";
import { drop, filesPage, row, WAIT } from "./_files_browser.ts";

Deno.test({
  name: "browser: files dropped while an earlier upload is still sending get their own rows, and both end as done",
  ignore: SKIP_BROWSER,
  async fn() {
    const w = await filesPage();
    const { page } = w;
    try {
      await w.open();
      // The first upload is held on its way to the server.
      let release = () => {};
      const held = new Promise<void>((r) => release = r);
      let first = true;
      await page.route("**/files/upload**", async (route) => {
        if (first) {
          first = false;
          await held;
        }
        await route.continue();
      });
      await drop(page, { "first.txt": "one\n" });
      const rows = page.locator('[data-testid="files-upload-row"]');
      /** Each upload row as "name: state". */
      const states = () =>
        rows.evaluateAll((all) => all.map((r) => `${r.querySelector(".mono")?.textContent}: ${r.dataset.state}`));
      await rows.filter({ hasText: "first.txt" }).and(page.locator('[data-state="sending"]')).waitFor(WAIT);
      // A second drop while the first is on its way: its file lands, and the first's row stays.
      await drop(page, { "second.txt": "two\n" });
      await page.locator('[data-testid="files-upload-row"][data-state="done"]', { hasText: "second.txt" })
        .waitFor(WAIT);
      await row(page, "second.txt").waitFor(WAIT);
      assert.deepEqual(await states(), ["first.txt: sending", "second.txt: done"]);
      release();
      await page.locator('[data-testid="files-upload-row"][data-state="done"]', { hasText: "first.txt" })
        .waitFor(WAIT);
      assert.deepEqual(await states(), ["first.txt: done", "second.txt: done"]);
      await row(page, "first.txt").waitFor(WAIT);
      assert.equal(await Deno.readTextFile(`${w.root}/first.txt`), "one\n");
      assert.equal(await Deno.readTextFile(`${w.root}/second.txt`), "two\n");

      // A later drop, once nothing is on its way, starts a fresh list.
      await page.unroute("**/files/upload**");
      await drop(page, { "third.txt": "three\n" });
      await page.locator('[data-testid="files-upload-row"][data-state="done"]', { hasText: "third.txt" })
        .waitFor(WAIT);
      assert.deepEqual(await states(), ["third.txt: done"]);
      assert.deepEqual(w.errors, []);
    } finally {
      await w.close();
    }
  },
});
