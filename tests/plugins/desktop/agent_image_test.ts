import assert from "node:assert/strict";
import { desktopPlugin } from "../../../plugins/desktop/mod.tsx";
import { ORIGIN } from "../../_helpers/harness.ts";
import { instanceWorld } from "../../harness/instance_world.ts";
import { until } from "../../harness/pool.ts";
import { DesktopClient } from "./_desktop_client.ts";
import * as rfb from "./_rfb.ts";

const UPGRADE = {
  upgrade: "websocket",
  connection: "Upgrade",
  "sec-websocket-version": "13",
  "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const ctrl = (ch: string) => {
  const [c, k] = [0xffe3, ch.charCodeAt(0)];
  return rfb.concat(rfb.key(true, c), rfb.key(true, k), rfb.key(false, k), rfb.key(false, c));
};

/**
 * What a person types to open an address in Chromium: Ctrl+L, a pause (Chromium takes a moment to focus
 * its address bar; keys sent sooner land elsewhere), Ctrl+A, the text, Return.
 */
async function typeAddress(c: DesktopClient, address: string): Promise<void> {
  c.send(ctrl("l"));
  await sleep(500);
  const keys = [ctrl("a")];
  for (const ch of address) keys.push(rfb.key(true, ch.charCodeAt(0)), rfb.key(false, ch.charCodeAt(0)));
  keys.push(rfb.key(true, 0xff0d), rfb.key(false, 0xff0d));
  c.send(rfb.concat(...keys));
}

Deno.test({
  name: "desktop on the real agent image: RFB through the route, access checks, only the controller drives Chromium",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const tag = crypto.randomUUID().slice(0, 6);
    const w = await instanceWorld(tag, () => [desktopPlugin({ recheckMs: 500 })], `Desk ${tag}`);
    const { t, admin, id } = w;
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req, info) => t.app.fetch(req, info));
    const url = `ws://127.0.0.1:${server.addr.port}/api/v1/instances/${id}/desktop/websockify`;
    const clients: DesktopClient[] = [];
    const open = (cookie: string, opts: { origin?: string; protocols?: string[] } = {}) => {
      const c = new DesktopClient(url, { cookie, origin: opts.origin ?? ORIGIN, protocols: opts.protocols });
      clients.push(c);
      return c;
    };
    /** The tabs Chromium shows, from its DevTools endpoint inside the instance. */
    const pageUrls = async (): Promise<string[]> => {
      const py = "import json,urllib.request;" +
        "print(json.dumps([t['url'] for t in json.load(urllib.request.urlopen('http://127.0.0.1:9222/json/list'))" +
        " if t['type']=='page']))";
      const r = await t.services.ssh.exec(id, `python3 -c "${py}"`);
      return JSON.parse(r.stdout);
    };
    try {
      const otherId = await t.createUser(admin, "viewer");
      t.services.users.setAssignedInstances(otherId, [id]);
      const viewer = await t.login("viewer", "viewer-password-1");
      await t.createUser(admin, "stranger");
      const stranger = await t.login("stranger", "stranger-password-1");

      // Who may open it: anonymous 401, a user not assigned 403, a foreign Origin 403 (before any channel opens).
      const path = `/api/v1/instances/${id}/desktop/websockify`;
      const anonymous = await t.request("GET", path, { headers: { ...UPGRADE, origin: ORIGIN } });
      assert.equal(anonymous.status, 401);
      assert.equal((await anonymous.json()).code, "UNAUTHENTICATED");
      const foreign = await t.request("GET", path, { cookie: stranger, headers: { ...UPGRADE, origin: ORIGIN } });
      assert.equal(foreign.status, 403);
      assert.equal((await foreign.json()).code, "FORBIDDEN");
      const cross = await t.request("GET", path, {
        cookie: admin,
        headers: { ...UPGRADE, origin: "http://evil.test" },
      });
      assert.equal(cross.status, 403);
      assert.equal((await cross.json()).code, "ORIGIN_REJECTED");
      const evil = open(admin, { origin: "http://evil.test" });
      await until(() => evil.closed !== null, 10_000, "the cross-site socket to fail");
      assert.equal(evil.opened, false);

      // The real x11vnc answers through websockify, the SSH channel and the route (the display may still be
      // starting right after SSH connects: retry until the banner comes).
      let a!: DesktopClient, screen!: { banner: string; width: number; height: number };
      await until(
        async () => {
          a = open(admin, { protocols: ["binary"] });
          try {
            screen = await a.handshake();
            return true;
          } catch {
            a.close();
            await sleep(1_000);
            return false;
          }
        },
        90_000,
        "an RFB session with the instance's x11vnc",
      );
      assert.equal(screen.banner, "RFB 003.008\n");
      assert.equal(a.ws.protocol, "binary", "websockify's choice of the offered subprotocol");
      assert.deepEqual([screen.width, screen.height], [1280, 800]);
      const b = open(viewer);
      await b.handshake();
      await until(() => a.state?.viewers === 2 && b.state?.viewers === 2, 5_000, "two viewers");
      assert.equal(a.state?.controller, null);

      // A viewer types an address into Chromium: nothing happens (its keys and clicks never reach x11vnc)...
      assert.deepEqual(await pageUrls(), ["about:blank"]);
      const cx = screen.width >> 1, cy = screen.height >> 1;
      const click = rfb.concat(rfb.pointer(0, cx, cy), rfb.pointer(1, cx, cy), rfb.pointer(0, cx, cy));
      b.send(click);
      await typeAddress(b, "chrome://credits");
      await sleep(3_000);
      assert.deepEqual(await pageUrls(), ["about:blank"], "the viewer's keys changed nothing");

      // ...while the controller's identical keys do.
      a.take();
      await until(() => a.state?.you === true && b.state?.controller === "admin" && !b.state.you, 5_000, "to a");
      a.send(click);
      await sleep(300);
      await typeAddress(a, "chrome://version");
      await until(async () => (await pageUrls()).includes("chrome://version/"), 20_000, "the controller's address");

      // b takes control: now b drives, a (a viewer again) does not.
      b.take();
      await until(() => b.state?.you === true && a.state?.controller === "viewer" && !a.state.you, 5_000, "to b");
      await typeAddress(a, "chrome://credits");
      await sleep(3_000);
      assert.deepEqual(await pageUrls(), ["chrome://version/"], "the demoted controller's keys changed nothing");
      b.send(click);
      await sleep(300);
      await typeAddress(b, "about:blank");
      await until(async () => (await pageUrls()).includes("about:blank"), 20_000, "b's address");

      // Release: nobody controls, everyone is told.
      b.release();
      await until(() => a.state?.controller === null && b.state?.controller === null, 5_000, "released");

      // Both keep receiving pixels: a full update request is answered on each socket.
      for (const c of [a, b]) {
        c.skip();
        const before = c.received;
        c.send(rfb.concat(rfb.setEncodings([0]), rfb.updateRequest(false, 0, 0, 64, 64)));
        await until(() => c.received - before >= 4 + 12 + 64 * 64 * 4, 20_000, "a raw 64×64 update");
      }

      const audit = t.services.audit.query({ limit: 100, offset: 0 }).entries;
      assert.ok(audit.filter((e) => e.action === "desktop.open").length >= 2);
      assert.deepEqual(
        audit.filter((e) => e.action === "desktop.control").map((e) => [e.actor, e.details.action]).reverse(),
        [["admin", "take"], ["viewer", "take"], ["viewer", "release"]],
      );
      const sockets = async () =>
        (await (await t.request("GET", "/metrics", { cookie: admin })).text()).match(/^claworc_desktop_sockets (\d+)$/m)
          ?.[1];
      await until(async () => await sockets() === "2", 5_000, "two sockets counted");
    } finally {
      for (const c of clients) c.close();
      await server.shutdown();
      await w.close();
    }
  },
});
