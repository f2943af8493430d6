import type { Browser, Page } from "playwright-core";
import { launchBrowser } from "../../_helpers/browser.ts";
import { loadConfig } from "../../../core/config.ts";
import { silentLogger } from "../../../core/log.ts";
import type { SshEndpoint } from "../../../core/mod.ts";
import { startServer } from "../../../core/server.ts";
import { authorizedLine } from "../../../core/ssh/authorized_line.ts";
import { filesPlugin } from "../../../plugins/files/mod.tsx";
import { builtinPlugins } from "../../../plugins/mod.ts";
import { coreRoutes, errorPage } from "../../../routes/mod.ts";
import { fixedBackend } from "../../harness/fixed_backend.ts";
import { startSshd, TEST_USER } from "../../harness/sshd.ts";
import { ownedDir } from "./_files_fixture.ts";

export const WAIT = { timeout: 30_000 };

/** The app with the files plugin confined to `root` on a real sshd, and Chromium on the Files tab as the admin. */
export interface FilesPage {
  page: Page;
  browser: Browser;
  root: string;
  owner: { uid: number; gid: number };
  /** Page errors and console errors. */
  errors: string[];
  /** Opens the Files tab and waits until it has hydrated and listed `root`. */
  open(): Promise<void>;
  close(): Promise<void>;
}

export async function filesPage(maxUploadBytes = 4 << 20): Promise<FilesPage> {
  const tag = crypto.randomUUID().slice(0, 8);
  const home = `/var/lib/${TEST_USER}`;
  const root = `${home}/files-ui-${tag}`;
  const dataPath = await Deno.makeTempDir({ prefix: "claworc-files-ui-" });
  const endpoints = new Map<string, SshEndpoint>();
  const config = loadConfig((n) => ({ CLAWORC_DATA_PATH: dataPath, CLAWORC_PORT: "0" })[n]);
  const plugins = [
    ...builtinPlugins().filter((p) => p.name !== "files"),
    fixedBackend(endpoints),
    filesPlugin({ roots: [root], maxUploadBytes }),
  ];
  const server = await startServer(config, { routes: coreRoutes, plugins, errorPage }, { log: silentLogger });
  const s = server.services;
  const sshd = await startSshd({ authorizedKeys: [authorizedLine(s.sshKeys.publicKey, s.ssh.targets)] }).catch(
    async (e) => {
      await server.close();
      throw e;
    },
  );
  const browser = await launchBrowser();
  const close = async () => {
    await browser.close();
    await server.close();
    await sshd.close();
    await Deno.remove(root, { recursive: true }).catch(() => {});
    await Deno.remove(dataPath, { recursive: true });
  };
  try {
    const { uid, gid } = await Deno.stat(home);
    const owner = { uid: uid!, gid: gid! };
    await ownedDir(root, owner);
    const inst = s.instances.insert("bot-files", "Files bot");
    endpoints.set("bot-files", { host: sshd.host, port: sshd.port, username: sshd.user });
    const setup = await fetch(`${server.url}/api/v1/auth/setup`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: server.url },
      body: JSON.stringify({ username: "admin", password: "admin-password-1" }),
    });
    if (setup.status !== 201) throw new Error(`setup answered ${setup.status}`);
    const [name, value] = setup.headers.getSetCookie()[0].split(";")[0].split("=");
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    await context.addCookies([{ name, value, url: server.url }]);
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    const open = async () => {
      await page.goto(`${server.url}/instances/${inst.id}/files`);
      await page.waitForSelector('[data-island="file_manager"][data-hydrated="true"]');
      await page.locator('[data-testid="files-table"]:not([aria-busy])').waitFor(WAIT);
      await page.locator('[data-testid="files-breadcrumbs"] [aria-current="location"]', { hasText: root })
        .waitFor(WAIT);
    };
    return { page, browser, root, owner, errors, open, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** A listing row by file name. */
export const row = (page: Page, name: string) => page.locator(`[data-testid="files-row"][data-name="${name}"]`);

/** Drops files (name → text) on the listing, as a drag from the desktop would. */
export async function drop(page: Page, files: Record<string, string>) {
  await page.evaluate((files) => {
    const dt = new DataTransfer();
    for (const [name, text] of Object.entries(files)) dt.items.add(new File([text], name, { type: "text/plain" }));
    const zone = document.querySelector('[data-testid="files-dropzone"]')!;
    zone.dispatchEvent(new DragEvent("dragover", { dataTransfer: dt, bubbles: true, cancelable: true }));
    zone.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, files);
}
