import assert from "node:assert/strict";
import { SKIP_BROWSER } from "../../_helpers/browser.ts";
import { ownedFile } from "./_files_fixture.ts";
import { filesPage, row, WAIT } from "./_files_browser.ts";

Deno.test({
  name: "browser: the Files tab's inline forms work from the keyboard: focus moves in, Escape cancels, focus returns",
  ignore: SKIP_BROWSER,
  async fn() {
    const w = await filesPage();
    const { page } = w;
    try {
      await ownedFile(`${w.root}/keep.txt`, "keep\n", w.owner);
      await w.open();
      await row(page, "keep.txt").waitFor(WAIT);
      const form = page.locator('[data-testid="files-form"]');
      /** Waits (briefly) for the focus to be on `testId`, and fails naming where it is instead. */
      const focused = async (testId: string) => {
        const on = () => page.evaluate(() => document.activeElement?.getAttribute("data-testid") ?? null);
        await page.waitForFunction((id) => document.activeElement?.getAttribute("data-testid") === id, testId, {
          timeout: 2_000,
        }).catch(() => {});
        assert.equal(await on(), testId);
      };

      // New folder: the name field has the focus, Enter creates.
      await page.click('[data-testid="files-new-folder"]');
      await form.waitFor(WAIT);
      await focused("files-form-name");
      await page.keyboard.type("made");
      await page.keyboard.press("Enter");
      await row(page, "made").waitFor(WAIT);
      await form.waitFor({ state: "detached", ...WAIT });

      // Escape cancels a rename and gives the focus back to the button that opened it.
      await row(page, "keep.txt").locator('[data-testid="files-rename"]').focus();
      await page.keyboard.press("Enter");
      await form.waitFor(WAIT);
      await focused("files-form-name");
      await page.keyboard.press("Escape");
      await form.waitFor({ state: "detached", ...WAIT });
      await focused("files-rename");

      // A delete confirmation takes the focus (on Cancel, so Enter alone deletes nothing); Escape cancels.
      await row(page, "keep.txt").locator('[data-testid="files-delete"]').focus();
      await page.keyboard.press("Enter");
      await form.waitFor(WAIT);
      await focused("files-form-cancel");
      await page.keyboard.press("Escape");
      await form.waitFor({ state: "detached", ...WAIT });
      await focused("files-delete");
      assert.equal(await Deno.readTextFile(`${w.root}/keep.txt`), "keep\n");

      // The unsaved-change question takes the focus on "Keep editing"; Escape keeps editing, back in the text.
      await row(page, "keep.txt").locator('[data-testid="files-open"]').click();
      await page.fill('[data-testid="editor-text"]', "keep\nmore\n");
      await page.locator('[data-testid="editor-dirty"]').waitFor(WAIT);
      await row(page, "made").locator('[data-testid="files-open"]').click();
      const guard = page.locator('[data-testid="files-unsaved"]');
      await guard.waitFor(WAIT);
      await focused("files-keep-editing");
      await page.keyboard.press("Escape");
      await guard.waitFor({ state: "detached", ...WAIT });
      await focused("editor-text");
      await page.keyboard.type("typed on");
      assert.equal(await page.inputValue('[data-testid="editor-text"]'), "keep\nmore\ntyped on");
      assert.deepEqual(w.errors, []);
    } finally {
      await w.close();
    }
  },
});
