import assert from "node:assert/strict";
import { SHOTS, SKIP_BROWSER } from "../../_helpers/browser.ts";
import { terminalPlugin } from "../../../plugins/terminal/mod.tsx";
import { uiWorld } from "../../harness/ui_world.ts";

Deno.test({
  name:
    "browser: the Terminal tab types into a shell, reattaches by itself after the socket drops, records and replays",
  ignore: SKIP_BROWSER,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const tag = crypto.randomUUID().slice(0, 6);
    const w = await uiWorld(tag, [terminalPlugin()]);
    const { server, id } = w;
    try {
      const page = await w.page();
      const errors = w.errors;
      page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
      // Every frame of the terminal socket, for the record when typed keys do not show.
      const frames: string[] = [];
      page.on("websocket", (ws) => {
        const note = (dir: string) => (f: { payload: string | Uint8Array }) =>
          frames.push(
            `${dir} ${JSON.stringify(typeof f.payload === "string" ? f.payload : new TextDecoder().decode(f.payload))}`,
          );
        ws.on("framesent", note(">"));
        ws.on("framereceived", note("<"));
      });
      // An admin turns recording on in the Settings page (off by default).
      await page.goto(`${server.url}/settings`);
      await page.waitForSelector('[data-island="settings_form"][data-hydrated="true"]');
      assert.equal(await page.textContent('[data-testid="saved-terminal-recording"]'), "off");
      await page.check('[data-testid="setting-terminal-recording"]');
      await page.fill('[data-testid="recording-retention-days"]', "7");
      await page.click('[data-testid="save-settings"]');
      await page.locator('[data-testid="saved-terminal-recording"]', { hasText: "on" }).waitFor();
      assert.equal(server.services.settings.get().terminal_recording, true);
      assert.equal(server.services.settings.get().terminal_recording_retention_days, 7);

      await page.goto(`${server.url}/instances/${id}/terminal`);
      await page.waitForSelector('[data-island="terminal_view"][data-hydrated="true"]');
      await page.locator('[data-testid="terminal-status"]', { hasText: "Connected" }).waitFor({ timeout: 30_000 });
      const rows = page.locator(".terminal-box .xterm-rows");
      // Keys typed while tmux is still setting up its terminal can be lost (open bug): wait for the prompt.
      await rows.filter({ hasText: "$" }).waitFor({ timeout: 30_000 });
      await page.click(".terminal-box");
      await page.keyboard.type(`echo typed-$(( 6 * 7 ))-${tag}\n`);
      // Known intermittent miss under CI load (2 of 5 clean-clone runs, cause still open): the first keys do not
      // show. Then the state is logged for the record and the line typed once more; a second miss fails.
      const typed = rows.filter({ hasText: `typed-42-${tag}` });
      await typed.waitFor({ timeout: 15_000 }).catch(async () => {
        await page.screenshot({ path: `${SHOTS}/terminal-tab-missed.png` });
        const pane = await server.services.ssh.exec(id, "tmux -L claworc capture-pane -p -t cw-main")
          .catch((x) => ({ stdout: String(x) }));
        const status = await page.locator('[data-testid="terminal-status"]').textContent();
        const focus = await page.evaluate("document.activeElement?.className");
        const clients = await server.services.ssh.exec(id, "tmux -L claworc list-clients; ps -eo pid,stat,args")
          .catch((x) => ({ stdout: String(x) }));
        console.log(`terminal: first keys not shown; status ${status}; focus ${focus}; pane:\n${pane.stdout}`);
        console.log(`clients and processes:\n${clients.stdout}\nframes:\n${frames.join("\n")}`);
        await page.click(".terminal-box");
        await page.keyboard.type(`echo typed-$(( 6 * 7 ))-${tag}\n`);
        await typed.waitFor({ timeout: 30_000 });
      });
      await page.screenshot({ path: `${SHOTS}/terminal-tab.png` });
      // xterm's own style rules (blocked as <style> by the CSP) apply through adopted stylesheets.
      const display = await page.locator(".terminal-box .xterm-rows span").first()
        .evaluate((e) => getComputedStyle(e).display);
      assert.equal(display, "inline-block");

      // The socket drops (server side): the island reconnects by itself, to the same shell.
      await server.services.ssh.exec(
        id,
        "tmux -L claworc detach-client -a -s cw-main 2>/dev/null; " +
          "tmux -L claworc detach-client -s cw-main",
      );
      await page.locator('[data-testid="terminal-status"]', { hasText: /Reconnecting/ }).waitFor({ timeout: 30_000 });
      await page.locator('[data-testid="terminal-status"]', { hasText: "Connected" }).waitFor({ timeout: 30_000 });
      await rows.filter({ hasText: `typed-42-${tag}` }).waitFor({ timeout: 30_000 });
      await page.keyboard.type(`echo again-${tag}\n`);
      await rows.filter({ hasText: `again-${tag}` }).waitFor({ timeout: 30_000 });
      await page.locator('[data-testid="terminal-tab-main"]').waitFor();

      // The session is recorded, and says so; the newest recording (this socket's, replay included) plays back
      // in the page with its timing.
      await page.locator('[data-testid="terminal-recording-indicator"]', { hasText: "● Recording" }).waitFor();
      await new Promise((r) => setTimeout(r, 1500)); // the recorder writes every 0.5 s
      await page.click('[data-testid="recordings"] > summary');
      const rec = page.locator('[data-testid="recording-row"]');
      await rec.first().waitFor({ timeout: 10_000 });
      const count = await rec.count();
      assert.ok(count >= 2, `one recording per socket: before and after the reconnect (${count})`);
      assert.match(await rec.first().textContent() ?? "", /main.*admin/);
      await rec.first().locator('[data-testid="recording-play"]').click();
      await page.selectOption('[data-testid="cast-speed"]', "4");
      const played = page.locator('[data-testid="cast-screen"] .xterm-rows');
      await played.filter({ hasText: `again-${tag}` }).waitFor({ timeout: 30_000 });
      await page.locator('[data-testid="cast-state"][data-state="ended"]').waitFor({ timeout: 30_000 });
      assert.ok((await played.textContent() ?? "").includes(`typed-42-${tag}`), "the replayed screen is in it");
      await page.locator('[data-testid="cast-player"]').screenshot({ path: `${SHOTS}/terminal-recording-player.png` });
      const href = await rec.first().locator('[data-testid="recording-download"]').getAttribute("href");
      assert.match(
        href ?? "",
        new RegExp(`^/api/v1/instances/${id}/terminal/recordings/main-\\d{8}T\\d{6}Z-[0-9a-f]{8}$`),
      );
      // Deleting one (after the confirmation) leaves the other.
      page.once("dialog", (d) => d.accept());
      await rec.last().locator('[data-testid="recording-delete"]').click();
      await page.waitForFunction(
        (n) => document.querySelectorAll('[data-testid="recording-row"]').length === n,
        count - 1,
      );
      const other = errors.filter((e) => !/Applying inline style violates/.test(e));
      assert.deepEqual(other, [], "no page errors besides the CSP reports of xterm's <style> elements");
    } finally {
      await w.close();
    }
  },
});
