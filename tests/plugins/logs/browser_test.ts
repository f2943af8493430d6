import assert from "node:assert/strict";
import { launchBrowser, SHOTS, SKIP_BROWSER } from "../../_helpers/browser.ts";
import { loadConfig } from "../../../core/config.ts";
import { silentLogger } from "../../../core/log.ts";
import type { SshEndpoint } from "../../../core/mod.ts";
import { startServer } from "../../../core/server.ts";
import { authorizedLine } from "../../../core/ssh/authorized_line.ts";
import { builtinPlugins } from "../../../plugins/mod.ts";
import { coreRoutes, errorPage } from "../../../routes/mod.ts";
import { fixedBackend } from "../../harness/fixed_backend.ts";
import { startSshd } from "../../harness/sshd.ts";

const WAIT = { timeout: 30_000 };

/** Writes `path` readable by the sshd's login user (the test runs as root). */
async function writeLog(path: string, lines: string[], append = false) {
  await Deno.writeTextFile(path, lines.map((l) => l + "\n").join(""), { append });
  await Deno.chmod(path, 0o644);
}

Deno.test({
  name: "browser: the Logs tab shows a chosen log, follows new lines, holds them while paused, " +
    "highlights a search and downloads what it shows, on a real sshd, and says why a stream is refused",
  ignore: SKIP_BROWSER,
  async fn() {
    const tag = crypto.randomUUID().slice(0, 8);
    // The instance's /var/log: the agent image's log files, seen only by this sshd's sessions.
    const varLog = await Deno.makeTempDir({ prefix: "claworc-logs-ui-" });
    await Deno.chmod(varLog, 0o755);
    await Deno.mkdir(`${varLog}/claworc`, { mode: 0o755 });
    const sshdLog = `${varLog}/claworc/sshd.log`;
    const openclaw = [`openclaw gateway listening ${tag}`, "openclaw ready"];
    const boot = [
      "Server listening on 0.0.0.0 port 22.",
      "Accepted publickey for agent from 10.88.0.1 port 40000",
      "session opened for agent",
      "accepted publickey for agent from 10.88.0.1 port 40002",
      "Received disconnect from 10.88.0.1",
    ];
    await writeLog(`${varLog}/claworc/openclaw.log`, openclaw);
    await writeLog(sshdLog, boot);

    const dataPath = await Deno.makeTempDir({ prefix: "claworc-logs-ui-data-" });
    const endpoints = new Map<string, SshEndpoint>();
    const config = loadConfig((n) => ({ CLAWORC_DATA_PATH: dataPath, CLAWORC_PORT: "0" })[n]);
    const server = await startServer(config, {
      routes: coreRoutes,
      plugins: [...builtinPlugins(), fixedBackend(endpoints)],
      errorPage,
    }, { log: silentLogger });
    const s = server.services;
    const sshd = await startSshd({
      authorizedKeys: [authorizedLine(s.sshKeys.publicKey, s.ssh.targets)],
      binds: [{ source: varLog, target: "/var/log" }],
    }).catch(async (e) => {
      await server.close();
      throw e;
    });
    const browser = await launchBrowser();
    try {
      const inst = s.instances.insert("bot-logs", "Logs bot");
      endpoints.set("bot-logs", { host: sshd.host, port: sshd.port, username: sshd.user });
      const setup = await fetch(`${server.url}/api/v1/auth/setup`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: server.url },
        body: JSON.stringify({ username: "admin", password: "admin-password-1" }),
      });
      assert.equal(setup.status, 201);
      const [name, value] = setup.headers.getSetCookie()[0].split(";")[0].split("=");
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
      await context.addCookies([{ name, value, url: server.url }]);
      const page = await context.newPage();
      page.setDefaultTimeout(30_000);
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
      const shot = (file: string) => page.screenshot({ path: `${SHOTS}/${file}.png`, fullPage: true });
      const view = page.locator('[data-testid="log-lines"]');
      const shown = async () => (await view.locator(".log-line").allTextContents()).map((l) => l.replace(/\n$/, ""));
      const status = page.locator('[data-testid="log-status"]');
      const line = (text: string) => view.locator(".log-line", { hasText: text });
      /** Waits for the status line; a timeout says what the viewer showed instead. */
      const statusShows = async (text: RegExp) => {
        try {
          await status.filter({ hasText: text }).waitFor(WAIT);
        } catch (e) {
          const notices = await page.locator('[data-testid="log-notice"]').allTextContents();
          throw new Error(
            `status never matched ${text}; it shows ${JSON.stringify(await status.textContent())}, ` +
              `notices ${JSON.stringify(notices)}, lines ${JSON.stringify(await shown())}`,
            { cause: e },
          );
        }
      };

      // The first type (OpenClaw) opens by itself, followed over SSH.
      await page.goto(`${server.url}/instances/${inst.id}/logs`);
      await page.waitForSelector('[data-island="log_viewer"][data-hydrated="true"]');
      await statusShows(/^Live · over SSH · 2 lines$/);
      assert.deepEqual(await shown(), openclaw);
      assert.equal(await page.locator('[data-testid="log-follow"]').isChecked(), true);

      // Pick the SSH server's log: its existing lines replace the other log's.
      await page.selectOption('[data-testid="log-type"]', { label: "SSH server" });
      await statusShows(/^Live · over SSH · 5 lines$/);
      assert.deepEqual(await shown(), boot);

      // A line appended on the instance arrives by itself.
      await writeLog(sshdLog, [`live line ${tag}`], true);
      await line(`live line ${tag}`).waitFor(WAIT);
      await shot("logs-01-following");

      // Paused: a new line is received but held back (the button counts it) until resumed.
      const pause = page.locator('[data-testid="log-pause"]');
      await pause.click();
      await page.locator('[data-testid="log-pause"][aria-pressed="true"]', { hasText: /^Resume$/ }).waitFor(WAIT);
      await writeLog(sshdLog, [`held line ${tag}`], true);
      await pause.filter({ hasText: /^Resume \(1 new\)$/ }).waitFor(WAIT);
      assert.equal(await line(`held line ${tag}`).count(), 0, "a held line is not shown while paused");
      assert.match(await status.textContent() ?? "", / · 6 lines$/);
      await shot("logs-02-paused");
      await pause.click();
      await line(`held line ${tag}`).waitFor(WAIT);
      await page.locator('[data-testid="log-pause"][aria-pressed="false"]', { hasText: /^Pause$/ }).waitFor(WAIT);
      const all = [...boot, `live line ${tag}`, `held line ${tag}`];
      assert.deepEqual(await shown(), all);

      // Search highlights every match, whatever its case, and counts the matching lines.
      await page.fill('[data-testid="log-search"]', "ACCEPTED");
      await statusShows(/ · 2 matching$/);
      assert.deepEqual(await view.locator("mark").allTextContents(), ["Accepted", "accepted"]);
      assert.deepEqual(
        await view.locator(".log-line", { has: page.locator("mark") }).allTextContents(),
        [boot[1] + "\n", boot[3] + "\n"],
      );
      await shot("logs-03-search");

      // The download holds exactly the lines shown, named after the instance, the type and the time.
      const [download] = await Promise.all([
        page.waitForEvent("download", WAIT),
        page.click('[data-testid="log-download"]'),
      ]);
      assert.match(download.suggestedFilename(), new RegExp(`^instance-${inst.id}-sshd-\\d{8}-\\d{6}\\.log$`));
      assert.equal(await Deno.readTextFile(await download.path()), all.map((l) => l + "\n").join(""));

      // A rotated log (renamed, then a new file at the same path) goes on being followed.
      await Deno.rename(sshdLog, `${sshdLog}.1`);
      await writeLog(sshdLog, [`after rotation ${tag}`]);
      await line(`after rotation ${tag}`).waitFor(WAIT);
      await page.locator('[data-testid="log-notice"]', { hasText: /following new file/ }).waitFor(WAIT);

      // Without follow, the log is read once and the stream ends.
      await page.locator('[data-testid="log-follow"]').uncheck();
      await statusShows(/^Ended · over SSH · 1 line · 0 matching$/);
      assert.deepEqual(await shown(), [`after rotation ${tag}`]);
      await shot("logs-04-ended");

      // Another log opened while paused shows its lines: the pause ended with the old stream.
      await pause.click();
      await page.locator('[data-testid="log-pause"][aria-pressed="true"]').waitFor(WAIT);
      await page.selectOption('[data-testid="log-type"]', { label: "OpenClaw gateway" });
      await statusShows(/^Ended · over SSH · 2 lines · 0 matching$/);
      assert.deepEqual(await shown(), openclaw);
      assert.equal(await pause.getAttribute("aria-pressed"), "false");
      assert.deepEqual(errors, []);

      // A refused stream says why (here: the session was signed out elsewhere), not only "Connection lost".
      const out = await fetch(`${server.url}/api/v1/auth/logout`, {
        method: "POST",
        headers: { origin: server.url, cookie: `${name}=${value}` },
      });
      assert.ok(out.ok, `logout answered ${out.status}`);
      await page.click('[data-testid="log-reload"]');
      await statusShows(/^Connection lost · 0 lines · 0 matching · Sign in to continue\.$/);
    } finally {
      await browser.close();
      await server.close();
      await sshd.close();
      await Deno.remove(dataPath, { recursive: true });
      await Deno.remove(varLog, { recursive: true });
    }
  },
});
