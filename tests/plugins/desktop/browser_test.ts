import assert from "node:assert/strict";
import { SHOTS, SKIP_BROWSER } from "../../_helpers/browser.ts";
import { desktopPlugin } from "../../../plugins/desktop/mod.tsx";
import { uiWorld } from "../../harness/ui_world.ts";
import { until } from "../../harness/pool.ts";
import * as rfb from "./_rfb.ts";

/** Distinct colours among sampled pixels of the noVNC canvas (0 when there is no framebuffer yet). */
const CANVAS_COLOURS = `(() => {
  const c = document.querySelector('[data-testid="desktop-screen"] canvas');
  if (!c || !c.width || !c.height) return 0;
  const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  const seen = new Set();
  for (let i = 0; i < d.length; i += 4 * 53) seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
  return seen.size;
})()`;

Deno.test({
  name: "browser: the Browser tab shows the agent's Chromium, view-only until Take control, then drives it",
  ignore: SKIP_BROWSER,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const tag = crypto.randomUUID().slice(0, 6);
    const w = await uiWorld(tag, [desktopPlugin()]);
    const { server, id } = w;
    try {
      const pageUrls = async (): Promise<string[]> => {
        const py = "import json,urllib.request;print(json.dumps([t['url'] for t in " +
          "json.load(urllib.request.urlopen('http://127.0.0.1:9222/json/list')) if t['type']=='page']))";
        return JSON.parse((await server.services.ssh.exec(id, `python3 -c "${py}"`)).stdout);
      };

      const page = await w.page();
      const errors = w.errors;
      page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
      // Binary frames the page sends on its desktop socket.
      const sent: Uint8Array[] = [];
      page.on("websocket", (ws) =>
        ws.on("framesent", (f) => {
          if (typeof f.payload !== "string") sent.push(new Uint8Array(f.payload));
        }));
      await page.goto(`${server.url}/instances/${id}/desktop`);
      await page.waitForSelector('[data-island="desktop_view"][data-hydrated="true"]');
      const status = page.locator('[data-testid="desktop-status"]');
      const control = page.locator('[data-testid="desktop-control"]');
      // Right after SSH connects the display may still be starting: the island retries with backoff.
      await status.filter({ hasText: "Connected" }).waitFor({ timeout: 90_000 });
      // Refused attempts before that (503 while websockify or x11vnc start) are logged by the browser and noVNC.
      errors.length = 0;
      const connectedAt = new Date().toISOString();
      // What the SSH link did since then, for a failure message (a dropped link makes the view reconnect).
      const sshSince = () =>
        server.services.sshEvents.list(id, 50).filter((e) => e.at >= connectedAt)
          .map((e) => `${e.at} ${e.type} ${e.to_state ?? ""} ${JSON.stringify(e.details)}`);

      // A real framebuffer, scaled into the panel: many colours (Chromium's window on the display), not one.
      await until(async () => Number(await page.evaluate(CANVAS_COLOURS)) >= 3, 30_000, "a non-blank framebuffer");
      await page.locator('[data-testid="desktop-screen"]').scrollIntoViewIfNeeded();
      const box = (await page.locator('[data-testid="desktop-screen"]').boundingBox())!;
      const canvas = (await page.locator('[data-testid="desktop-screen"] canvas').boundingBox())!;
      assert.ok(canvas.width <= box.width + 1 && canvas.height <= box.height + 1, "scaled to the panel");
      assert.ok(canvas.width > 0.9 * box.width || canvas.height > 0.9 * box.height, "and filling it");
      await page.screenshot({ path: `${SHOTS}/desktop-tab.png` });

      // View-only until "Take control": typing does nothing to the remote browser.
      await control.filter({ hasText: "View only · nobody has control" }).waitFor();
      assert.deepEqual(await pageUrls(), ["about:blank"]);
      const drive = async (address: string) => {
        await page.mouse.click(canvas.x + canvas.width / 2, canvas.y + canvas.height / 2);
        // Chromium takes a moment to focus its address bar; keys sent sooner land elsewhere (as a person's would).
        await page.keyboard.press("Control+l");
        await new Promise((r) => setTimeout(r, 500));
        await page.keyboard.press("Control+a");
        await page.keyboard.type(address, { delay: 20 });
        await page.keyboard.press("Enter");
      };
      await drive("chrome://credits");
      await new Promise((r) => setTimeout(r, 2_000));
      assert.deepEqual(await pageUrls(), ["about:blank"], "view-only keys changed nothing");

      await page.click('[data-testid="desktop-take"]');
      await control.filter({ hasText: "You have control" }).waitFor({ timeout: 10_000 });
      await page.locator('[data-testid="desktop-release"]').waitFor();
      await drive("chrome://version");
      await until(async () => (await pageUrls()).includes("chrome://version/"), 20_000, "the page typed in the tab")
        .catch(async (e) => {
          await page.screenshot({ path: `${SHOTS}/desktop-typing-missed.png` });
          throw e;
        });
      await new Promise((r) => setTimeout(r, 1_000));
      await page.screenshot({ path: `${SHOTS}/desktop-tab-control.png` });

      // Clipboard, remote → here: text selected and copied in the remote page shows in the clipboard box.
      const clipboard = page.locator('[data-testid="desktop-clipboard"]');
      await page.mouse.click(canvas.x + canvas.width / 2, canvas.y + canvas.height * 0.7);
      await page.keyboard.press("Control+a");
      await page.keyboard.press("Control+c");
      await until(async () => (await clipboard.inputValue()).includes("Chromium"), 15_000, "the remote clipboard");
      // Here → remote: "Send" puts the text on the socket as an RFB ClientCutText (the proxy test shows a
      // controller's reaches websockify byte for byte and a viewer's never does).
      await page.click(".desktop-clipboard summary");
      await clipboard.fill(`from-the-dashboard-${tag}`);
      await page.click('[data-testid="desktop-clipboard-send"]');
      const cut = rfb.cutText(`from-the-dashboard-${tag}`);
      await until(
        () => sent.some((f) => f.length === cut.length && f.every((b, i) => b === cut[i])),
        5_000,
        "cut text",
      );

      // Screenshot download: a PNG of the framebuffer.
      const [download] = await Promise.all([
        page.waitForEvent("download"),
        page.click('[data-testid="desktop-screenshot"]'),
      ]);
      const png = await Deno.readFile(await download.path());
      assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      assert.ok(png.length > 10_000, `${png.length} bytes of PNG`);

      // The pop-out page: the view alone, filling the window; it watches while the tab holds control.
      const popout = await page.context().newPage();
      popout.on("pageerror", (e) => errors.push(e.message));
      await popout.goto(`${server.url}/instances/${id}/desktop/popout`);
      await popout.locator('[data-testid="desktop-status"]', { hasText: "Connected" }).waitFor({ timeout: 30_000 });
      await popout.locator('[data-testid="desktop-control"]', { hasText: "View only · admin has control" }).waitFor();
      const frame = (await popout.locator('[data-testid="desktop"]').boundingBox())!;
      assert.deepEqual([frame.x, frame.y, frame.width, frame.height], [0, 0, 1280, 900]);
      await until(async () => Number(await popout.evaluate(CANVAS_COLOURS)) >= 3, 30_000, "the pop-out's framebuffer");
      await popout.screenshot({ path: `${SHOTS}/desktop-popout.png` });

      // Releasing is told to both.
      await page.click('[data-testid="desktop-release"]');
      await control.filter({ hasText: "View only · nobody has control" }).waitFor({ timeout: 10_000 });
      await popout.locator('[data-testid="desktop-control"]', { hasText: "nobody has control" }).waitFor();
      assert.deepEqual(errors, [], `no page errors; SSH events since the view connected: ${sshSince().join("; ")}`);

      // The SSH connection drops under the open view: the island reconnects by itself once SSH is back.
      server.services.ssh.current(id)?.close();
      await status.filter({ hasText: "Reconnecting" }).waitFor({ timeout: 15_000 });
      await status.filter({ hasText: "Connected" }).waitFor({ timeout: 60_000 });
      await until(async () => Number(await page.evaluate(CANVAS_COLOURS)) >= 3, 30_000, "the framebuffer again");
    } finally {
      await w.close();
    }
  },
});
