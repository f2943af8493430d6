import assert from "node:assert/strict";
import { SKIP_BROWSER } from "../../_helpers/browser.ts";
import { ownedDir, ownedFile } from "./_files_fixture.ts";
import { filesPage, row, WAIT } from "./_files_browser.ts";

Deno.test({
  name: "browser: the Files tab offers no download for a link to a folder, which opens as the folder",
  ignore: SKIP_BROWSER,
  async fn() {
    const w = await filesPage();
    const { page } = w;
    try {
      await ownedDir(`${w.root}/real`, w.owner);
      await ownedFile(`${w.root}/real/inside.txt`, "inside\n", w.owner);
      await Deno.symlink(`${w.root}/real`, `${w.root}/to-folder`);
      await Deno.symlink(`${w.root}/real/inside.txt`, `${w.root}/to-file`);
      await w.open();
      await row(page, "to-folder").waitFor(WAIT);
      assert.equal(await row(page, "to-folder").locator('[data-testid="files-download"]').count(), 0);
      assert.equal(await row(page, "to-file").locator('[data-testid="files-download"]').count(), 1);
      assert.equal(await row(page, "real").locator('[data-testid="files-download"]').count(), 0);
      await row(page, "to-folder").locator('[data-testid="files-open"]').click();
      await row(page, "inside.txt").waitFor(WAIT);
      assert.deepEqual(w.errors, []);
    } finally {
      await w.close();
    }
  },
});
