import assert from "node:assert/strict";
import { SKIP_BROWSER } from "../../_helpers/browser.ts";
import { drop, filesPage, row, WAIT } from "./_files_browser.ts";
import { ownedFile } from "./_files_fixture.ts";

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

Deno.test({
  name: "browser: an upload that would replace a file asks first: Cancel (or Escape) keeps it, Replace replaces it",
  ignore: SKIP_BROWSER,
  async fn() {
    const w = await filesPage();
    const { page } = w;
    try {
      await ownedFile(`${w.root}/keep.txt`, "old\n", w.owner);
      await w.open();
      await row(page, "keep.txt").waitFor(WAIT);
      const prompt = page.locator('[data-testid="files-replace"]');
      const focused = () => page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.testid);

      await drop(page, { "keep.txt": "new\n", "other.txt": "other\n" });
      await prompt.waitFor(WAIT);
      assert.match(await prompt.innerText(), /keep\.txt/);
      assert.doesNotMatch(await prompt.innerText(), /other\.txt/, "only the clashing name is named");
      assert.equal(await focused(), "files-replace-cancel", "the safe choice has the focus");
      await page.keyboard.press("Escape");
      await prompt.waitFor({ ...WAIT, state: "detached" });
      await drop(page, { "keep.txt": "new\n" });
      await page.click('[data-testid="files-replace-cancel"]');
      await prompt.waitFor({ ...WAIT, state: "detached" });
      assert.equal(await page.locator('[data-testid="files-upload-row"]').count(), 0, "nothing was sent");
      assert.equal(await Deno.readTextFile(`${w.root}/keep.txt`), "old\n");
      assert.equal(await Deno.stat(`${w.root}/other.txt`).then(() => true, () => false), false);

      await drop(page, { "keep.txt": "new\n" });
      await page.click('[data-testid="files-replace-confirm"]');
      await page.locator('[data-testid="files-upload-row"][data-state="done"]', { hasText: "keep.txt" }).waitFor(WAIT);
      assert.equal(await Deno.readTextFile(`${w.root}/keep.txt`), "new\n");
      // A name that is new here goes without a question.
      await drop(page, { "fresh.txt": "fresh\n" });
      await page.locator('[data-testid="files-upload-row"][data-state="done"]', { hasText: "fresh.txt" }).waitFor(WAIT);
      assert.equal(await prompt.count(), 0);
      assert.deepEqual(w.errors, []);
    } finally {
      await w.close();
    }
  },
});
