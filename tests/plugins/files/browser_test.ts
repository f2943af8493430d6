import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { Page } from "playwright-core";
import { SHOTS, SKIP_BROWSER } from "../../_helpers/browser.ts";
import { filesPage, row, WAIT } from "./_files_browser.ts";
import { ownedDir, ownedFile } from "./_files_fixture.ts";

const MiB = 1024 * 1024;
/** A name a plain `filename=` cannot carry: spaces, an apostrophe, accents and a symbol outside Latin-1. */
const UNICODE_NAME = "Rapport d'été ☀ 2024.txt";

/** Random bytes (getRandomValues fills at most 64 KiB at a time). */
function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let at = 0; at < n; at += 65_536) crypto.getRandomValues(out.subarray(at, Math.min(n, at + 65_536)));
  return out;
}

const exists = (path: string) => Deno.lstat(path).then(() => true, () => false);

/** Waits until the folder shown is `label` (the last breadcrumb) and its listing has loaded. */
async function at(page: Page, label: string) {
  const exact = new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
  await page.locator('[data-testid="files-breadcrumbs"] [aria-current="location"]', { hasText: exact }).waitFor(WAIT);
  await page.locator('[data-testid="files-table"]:not([aria-busy])').waitFor(WAIT);
}

Deno.test({
  name: "browser: the Files tab browses, creates, edits with an unsaved-change guard, uploads, downloads, " +
    "renames and deletes on a real sshd",
  ignore: SKIP_BROWSER,
  async fn() {
    const w = await filesPage();
    const { page, root, owner, errors } = w;
    try {
      await ownedDir(`${root}/docs/notes`, owner);
      await Deno.chown(`${root}/docs`, owner.uid, owner.gid);
      await ownedFile(`${root}/docs/notes/deep.txt`, "deep\n", owner);
      const unicodeBytes = new TextEncoder().encode("Bonjour, été ☀\nsecond line\n");
      await ownedFile(`${root}/${UNICODE_NAME}`, unicodeBytes, owner);
      const context = page.context();
      const shot = (file: string) => page.screenshot({ path: `${SHOTS}/${file}.png`, fullPage: true });

      await w.open();
      await at(page, root);
      await row(page, "docs").waitFor(WAIT);
      assert.equal(await row(page, "docs").locator('[data-testid="files-open"]').textContent(), "docs/");
      await row(page, UNICODE_NAME).waitFor(WAIT);

      // Download: the browser saves the exact bytes under the exact name (RFC 8187 filename*).
      const [download] = await Promise.all([
        page.waitForEvent("download", WAIT),
        row(page, UNICODE_NAME).locator('[data-testid="files-download"]').click(),
      ]);
      assert.equal(download.suggestedFilename(), UNICODE_NAME);
      assert.equal(await download.failure(), null);
      assert.deepEqual(await Deno.readFile(await download.path()), unicodeBytes);

      // Browse down by clicking folders, then back up with a breadcrumb.
      await row(page, "docs").locator('[data-testid="files-open"]').click();
      await at(page, "docs");
      await row(page, "notes").locator('[data-testid="files-open"]').click();
      await at(page, "notes");
      await row(page, "deep.txt").waitFor(WAIT);
      const trail = await page.locator('[data-testid="files-breadcrumbs"] a, [data-testid="files-breadcrumbs"] strong')
        .allTextContents();
      assert.deepEqual(trail, [root, "docs", "notes"]);
      await shot("files-01-browse");
      await page.locator('[data-testid="files-crumb"]', { hasText: /^docs$/ }).click();
      await at(page, "docs");
      await row(page, "notes").waitFor(WAIT);
      assert.equal(await row(page, "deep.txt").count(), 0);

      // A new folder, made through the inline form.
      await page.click('[data-testid="files-new-folder"]');
      await page.fill('[data-testid="files-form-name"]', "drafts");
      await page.click('[data-testid="files-form-submit"]');
      await row(page, "drafts").waitFor(WAIT);
      assert.ok((await Deno.stat(`${root}/docs/drafts`)).isDirectory);
      await row(page, "drafts").locator('[data-testid="files-open"]').click();
      await at(page, "drafts");
      await page.locator('[data-testid="files-empty"]').waitFor(WAIT);

      // A new file opens in the editor; what is typed and saved is what lands on disk.
      await page.click('[data-testid="files-new-file"]');
      await page.fill('[data-testid="files-form-name"]', "hello.md");
      await page.click('[data-testid="files-form-submit"]');
      const editor = page.locator('[data-testid="file-editor"]');
      await editor.locator("h2", { hasText: `${root}/docs/drafts/hello.md` }).waitFor(WAIT);
      await row(page, "hello.md").waitFor(WAIT);
      assert.equal(await Deno.readTextFile(`${root}/docs/drafts/hello.md`), "");
      const text = "# Hello\n\nGrüße aus dem Editor ✓\n";
      await page.fill('[data-testid="editor-text"]', text);
      await page.locator('[data-testid="editor-dirty"]').waitFor(WAIT);
      await shot("files-02-editing");
      // The save is held on its way to the server while more is typed: the typing stays, and only what was
      // sent counts as saved.
      let release = () => {};
      const held = new Promise<void>((r) => release = r);
      await page.route("**/files/create", async (route) => {
        await held;
        await route.continue();
      });
      await page.click('[data-testid="editor-save"]');
      await page.locator('[data-testid="editor-save"]', { hasText: "Saving…" }).waitFor(WAIT);
      const more = text + "typed while saving\n";
      await page.fill('[data-testid="editor-text"]', more);
      release();
      await page.locator('[data-testid="files-notice"]', { hasText: `Saved ${root}/docs/drafts/hello.md.` })
        .waitFor(WAIT);
      await page.unroute("**/files/create");
      assert.deepEqual(await Deno.readFile(`${root}/docs/drafts/hello.md`), new TextEncoder().encode(text));
      await page.locator('[data-testid="editor-save"]', { hasText: /^Save$/ }).waitFor(WAIT);
      assert.equal(await page.inputValue('[data-testid="editor-text"]'), more);
      await page.locator('[data-testid="editor-dirty"]').waitFor(WAIT);
      // Ctrl+S saves the rest.
      await page.press('[data-testid="editor-text"]', "Control+s");
      await page.locator('[data-testid="editor-dirty"]').waitFor({ state: "detached", ...WAIT });
      assert.ok(await page.locator('[data-testid="editor-save"]').isDisabled(), "nothing left to save");
      assert.deepEqual(await Deno.readFile(`${root}/docs/drafts/hello.md`), new TextEncoder().encode(more));

      // Unsaved edits: leaving the file asks first; "Keep editing" stays, "Discard" leaves and writes nothing.
      await page.fill('[data-testid="editor-text"]', more + "not saved\n");
      await page.locator('[data-testid="editor-dirty"]').waitFor(WAIT);
      await page.locator('[data-testid="files-crumb"]', { hasText: /^docs$/ }).click();
      const guard = page.locator('[data-testid="files-unsaved"]');
      await guard.waitFor(WAIT);
      assert.match(await guard.textContent() ?? "", /hello\.md has unsaved changes\. Discard them\?/);
      await shot("files-03-unsaved-guard");
      await page.click('[data-testid="files-keep-editing"]');
      await guard.waitFor({ state: "detached", ...WAIT });
      await at(page, "drafts");
      assert.equal(await page.inputValue('[data-testid="editor-text"]'), more + "not saved\n");
      await page.click('[data-testid="editor-close"]');
      await guard.waitFor(WAIT);
      await page.click('[data-testid="files-discard"]');
      await editor.waitFor({ state: "detached", ...WAIT });
      await at(page, "drafts");
      assert.deepEqual(await Deno.readFile(`${root}/docs/drafts/hello.md`), new TextEncoder().encode(more));

      // Upload through the button's file chooser, with the browser's upload slowed down: the row shows the
      // bytes sent so far. Moving to another folder meanwhile is not undone when the upload finishes.
      const browsed: string[] = [];
      page.on("request", (r) => {
        if (r.url().includes("/files/browse")) browsed.push(new URL(r.url()).searchParams.get("path") ?? "");
      });
      const cdp = await context.newCDPSession(page);
      await cdp.send("Network.enable");
      const uploadLimit = (bytesPerSecond: number) =>
        cdp.send("Network.emulateNetworkConditions", {
          offline: false,
          latency: 0,
          downloadThroughput: -1,
          uploadThroughput: bytesPerSecond,
        });
      await uploadLimit(128 * 1024);
      const uploaded = randomBytes(3 * MiB + 123);
      const [chooser] = await Promise.all([
        page.waitForEvent("filechooser", WAIT),
        page.click('[data-testid="files-upload"]'),
      ]);
      await chooser.setFiles({
        name: "data ü 1.bin",
        mimeType: "application/octet-stream",
        buffer: Buffer.from(uploaded),
      });
      const sending = page.locator('[data-testid="files-upload-row"][data-state="sending"]', {
        hasText: "data ü 1.bin",
      });
      await sending.waitFor(WAIT);
      await page.waitForFunction(
        () => {
          const bar = document.querySelector<HTMLProgressElement>(
            '[data-testid="files-upload-row"][data-state="sending"] progress',
          );
          return bar !== null && bar.value > 0 && bar.value < bar.max;
        },
        undefined,
        WAIT,
      );
      assert.match(await sending.textContent() ?? "", /^data ü 1\.bin[\d.]+ (B|KiB|MiB) of 3\.0 MiB$/);
      await shot("files-04-uploading");
      await page.locator('[data-testid="files-crumb"]', { hasText: /^docs$/ }).click();
      await at(page, "docs");
      const mark = browsed.length;
      await uploadLimit(-1);
      const upRow = page.locator('[data-testid="files-upload-row"][data-state="done"]', { hasText: "data ü 1.bin" });
      await upRow.waitFor(WAIT);
      assert.match(await upRow.textContent() ?? "", /done$/);
      assert.equal(await upRow.locator("progress").evaluate((b: HTMLProgressElement) => b.value === b.max), true);
      // A listing request issued when the upload finished would be seen before the refresh's answer.
      const refreshed = page.waitForResponse((r) => r.url().includes("/files/browse"));
      await page.click('[data-testid="files-refresh"]');
      await refreshed;
      assert.deepEqual(browsed.slice(mark), [`${root}/docs`], "the finished upload did not reload its own folder");
      await at(page, "docs");
      await row(page, "drafts").locator('[data-testid="files-open"]').click();
      await at(page, "drafts");
      await row(page, "data ü 1.bin").waitFor(WAIT);
      assert.equal(await row(page, "data ü 1.bin").locator("td").nth(1).textContent(), "3.0 MiB");
      assert.deepEqual(await Deno.readFile(`${root}/docs/drafts/data ü 1.bin`), uploaded);
      await shot("files-05-uploaded");

      // Upload by dropping files on the listing: a small one lands, one over the limit is refused in the page.
      const small = "dropped in\n";
      await page.evaluate(({ small, size }) => {
        const dt = new DataTransfer();
        dt.items.add(new File([small], "dropped.txt", { type: "text/plain" }));
        dt.items.add(new File([new Uint8Array(size)], "too big.bin"));
        const zone = document.querySelector('[data-testid="files-dropzone"]')!;
        zone.dispatchEvent(new DragEvent("dragover", { dataTransfer: dt, bubbles: true, cancelable: true }));
        zone.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
      }, { small, size: 4 * MiB + 1 });
      await page.locator('[data-testid="files-upload-row"][data-state="done"]', { hasText: "dropped.txt" })
        .waitFor(WAIT);
      const refused = page.locator('[data-testid="files-upload-row"][data-state="failed"]', { hasText: "too big.bin" });
      await refused.waitFor(WAIT);
      assert.match(await refused.textContent() ?? "", /failed: larger than 4\.0 MiB/);
      await row(page, "dropped.txt").waitFor(WAIT);
      assert.equal(await Deno.readTextFile(`${root}/docs/drafts/dropped.txt`), small);
      assert.equal(await exists(`${root}/docs/drafts/too big.bin`), false);

      // Rename: the listing and the disk both show the new name only, with the content kept.
      await row(page, "hello.md").locator('[data-testid="files-rename"]').click();
      assert.equal(await page.inputValue('[data-testid="files-form-name"]'), "hello.md");
      await page.fill('[data-testid="files-form-name"]', "dropped.txt");
      await page.locator('[data-testid="files-form"] [role="alert"]', { hasText: "A file with that name exists" })
        .waitFor(WAIT);
      await page.fill('[data-testid="files-form-name"]', "hello renamed.md");
      await page.click('[data-testid="files-form-submit"]');
      await row(page, "hello renamed.md").waitFor(WAIT);
      await row(page, "hello.md").waitFor({ state: "detached", ...WAIT });
      assert.equal(await exists(`${root}/docs/drafts/hello.md`), false);
      assert.equal(await Deno.readTextFile(`${root}/docs/drafts/hello renamed.md`), more);

      // Delete asks first: cancelling keeps the folder; confirming removes it and everything in it.
      await page.locator('[data-testid="files-crumb"]', { hasText: /^docs$/ }).click();
      await at(page, "docs");
      await row(page, "drafts").locator('[data-testid="files-delete"]').click();
      const confirm = page.locator('[data-testid="files-form"]');
      await confirm.waitFor(WAIT);
      assert.match(await confirm.textContent() ?? "", /Delete the folder drafts and everything in it\?/);
      await shot("files-06-delete-confirm");
      await page.click('[data-testid="files-form-cancel"]');
      await confirm.waitFor({ state: "detached", ...WAIT });
      assert.ok(await exists(`${root}/docs/drafts/dropped.txt`), "cancel deletes nothing");
      await row(page, "drafts").locator('[data-testid="files-delete"]').click();
      await page.click('[data-testid="files-delete-confirm"]');
      await row(page, "drafts").waitFor({ state: "detached", ...WAIT });
      assert.equal(await exists(`${root}/docs/drafts`), false);
      await row(page, "notes").waitFor(WAIT);
      assert.equal(await page.locator('[data-testid="files-error"]').count(), 0);
      await shot("files-07-deleted");
      assert.deepEqual(errors, []);
    } finally {
      await w.close();
    }
  },
});
