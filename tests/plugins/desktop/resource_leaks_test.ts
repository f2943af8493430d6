/**
 * The desktop proxy leaves nothing behind (see `tests/plugins/resource_leaks_test.ts` for why): after a
 * warm-up round, rounds of desktop sockets through a real server (`Deno.serve` on loopback) to the fake
 * websockify behind a real sshd (`_desktop_world.ts`) must bring Deno's resource table back to its size,
 * and with it what the table does not see: SSH channels (each socket holds a direct-tcpip one), the
 * plugin's viewers (`claworc_desktop_sockets`), the connections websockify still has open, and
 * intervals (each socket re-checks its sign-in on one).
 *
 * A browser that sends its whole handshake and leaves before the answer (the island's socket closed
 * while the channel opens) gets no socket, and Deno never opens, closes or fails the one upgraded for
 * it; such requests go to a server of their own, since Deno's `shutdown` may then wait for good.
 */
import assert from "node:assert/strict";
import { sshDefaults } from "../../../core/ssh/options.ts";
import { desktopPlugin } from "../../../plugins/desktop/mod.tsx";
import { ORIGIN, WS_HANDSHAKE } from "../../_helpers/harness.ts";
import {
  abandonedHandshake,
  assertHoldsNoMore,
  clearIntervalsSince,
  type Counters,
  liveIntervals,
  openSshChannels,
  settledHold,
} from "../../_helpers/leak_check.ts";
import { until } from "../../harness/pool.ts";
import { DesktopClient } from "./_desktop_client.ts";
import { type DesktopWorld, desktopWorld } from "./_desktop_world.ts";
import { CLOSE_TRIGGER } from "./_fake_websockify.ts";
import * as rfb from "./_rfb.ts";

const intervals = liveIntervals();
const ROUNDS = 5;
/** How long the counts may take to come back after the rounds (closes complete asynchronously). */
const SETTLE_MS = 5_000;
const WAIT_MS = 15_000;

function counters(w: DesktopWorld): Counters {
  const sockets = w.t.host.metrics.find((m) => m.name === "claworc_desktop_sockets");
  assert.ok(sockets, "the desktop plugin's socket gauge");
  const count = (event: string) => w.events.filter((e) => e.event === event).length;
  return {
    "open SSH channels": openSshChannels(w.t.services.ssh),
    "desktop sockets (viewers)": () => sockets.samples()[0].value,
    "websockify connections open": () => count("open") - count("close"),
    "live intervals": () => intervals.size,
  };
}

/** Runs one test in a fresh world with production SSH timings (no probe channels in the counts). */
function leakTest(name: string, options: Parameters<typeof desktopPlugin>[0], fn: (w: DesktopWorld) => Promise<void>) {
  Deno.test({
    name,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const w = await desktopWorld("record", [desktopPlugin(options)], sshDefaults);
      const held = new Set(intervals);
      try {
        await fn(w);
      } catch (e) {
        clearIntervalsSince(held);
        throw e;
      } finally {
        await w.close();
      }
    },
  });
}

leakTest(
  "resources: desktop sockets closed by the browser or by websockify, or left before the answer, leave nothing behind",
  // A socket that never opens is given up after the handshake timeout: short here, so within SETTLE_MS.
  { recheckMs: 200, handshakeTimeoutMs: 2_000 },
  async (w) => {
    const abandonAbort = new AbortController();
    const abandonServer = Deno.serve(
      { hostname: "127.0.0.1", port: 0, signal: abandonAbort.signal, onListen() {} },
      (req, info) => w.t.app.fetch(req, info),
    );
    const clients: DesktopClient[] = [];
    /** A socket as noVNC opens it, its RFB banner read, told it views; returns it and websockify's connection. */
    const open = async () => {
      const opens = () => w.events.filter((e) => e.event === "open");
      const before = opens().length;
      const c = new DesktopClient(w.url, { cookie: w.admin, origin: ORIGIN, protocols: ["binary"] });
      clients.push(c);
      assert.equal(new TextDecoder().decode(await c.read(12, WAIT_MS, "the RFB banner")), "RFB 003.008\n");
      await until(() => opens().length === before + 1, WAIT_MS, "websockify's connection");
      await until(() => c.state?.viewers === 1, WAIT_MS, "the first control frame");
      assert.deepEqual(c.state, { type: "control", controller: null, you: false, viewers: 1 });
      return { c, conn: opens()[before].conn as number };
    };
    const arrived = (conn: number, bytes: Uint8Array, what: string) =>
      until(
        () => {
          const got = w.receivedBy(conn);
          return got.length === bytes.length && got.every((b, i) => b === bytes[i]);
        },
        WAIT_MS,
        what,
      );
    const takeControl = async (c: DesktopClient) => {
      c.take();
      await until(() => c.state?.you === true, WAIT_MS, "control taken");
    };

    const round = async (n: number) => {
      // 1. The browser closes: RFB both ways, control taken and released, then the browser's close.
      const a = await open();
      const view = rfb.concat(rfb.handshake(), rfb.setPixelFormat(), rfb.updateRequest(false, 0, 0, 64, 64));
      a.c.send(view);
      await arrived(a.conn, view, "the viewer's handshake and pixel request");
      await takeControl(a.c);
      const keys = rfb.concat(rfb.key(true, 0x61 + n), rfb.key(false, 0x61 + n), rfb.pointer(1, n, n));
      a.c.send(keys);
      await arrived(a.conn, rfb.concat(view, keys), "the controller's input");
      const frames = a.c.control.length;
      a.c.release();
      await until(() => a.c.control.length > frames && a.c.state?.controller === null, WAIT_MS, "control released");
      a.c.close();
      // Websockify's side closing too is left to the counts (SSH channels, websockify's connections).
      await until(() => a.c.closed !== null, WAIT_MS, "the browser socket to close");

      // 2. Websockify closes first (while this socket controls): the browser's socket is closed (1000).
      const b = await open();
      b.c.send(rfb.handshake());
      await arrived(b.conn, rfb.handshake(), "the handshake");
      await takeControl(b.c);
      b.c.send(CLOSE_TRIGGER);
      await until(() => b.c.closed !== null, WAIT_MS, "the browser socket to close after websockify's");
      assert.equal(b.c.closed?.code, 1000);

      // 3. A browser that leaves right after its handshake: websockify's socket is opened for it all the same.
      const opened = w.events.filter((e) => e.event === "open").length;
      await abandonedHandshake(abandonServer.addr.port, `/api/v1/instances/${w.id}/desktop/websockify`, {
        "sec-websocket-protocol": "binary",
        origin: ORIGIN,
        cookie: w.admin,
      });
      await until(
        () => w.events.filter((e) => e.event === "open").length > opened,
        WAIT_MS,
        "the abandoned one's open",
      );
    };

    try {
      await round(0); // warm-up
      const base = await settledHold(counters(w));
      for (let n = 1; n <= ROUNDS; n++) await round(n);
      await assertHoldsNoMore(
        base,
        `${ROUNDS} rounds of a desktop socket closed by the browser, one closed by websockify and one left early`,
        counters(w),
        SETTLE_MS,
      );
      const audit = w.t.services.audit.query({ limit: 200, offset: 0 }).entries;
      assert.equal(audit.filter((e) => e.action === "desktop.open").length, 3 * (ROUNDS + 1));
      const released = audit.filter((e) => e.action === "desktop.control" && e.details.action === "release");
      assert.equal(released.length, 2 * (ROUNDS + 1), "released by the browser, and freed by websockify's close");
    } finally {
      for (const c of clients) c.close();
      abandonAbort.abort();
      // Not awaited for good: an upgrade whose client left can keep Deno's shutdown waiting.
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([abandonServer.finished, new Promise((r) => timer = setTimeout(r, 2_000))]);
      clearTimeout(timer);
    }
  },
);

// The tunnel to the "gateway" target: nothing listens on 127.0.0.1:18789 in the instance, as when
// websockify is down, so the channel is refused and the upgrade answered 503.
leakTest(
  "resources: desktop sockets refused (websockify unreachable, 503) leave nothing behind",
  { tunnel: "gateway", recheckMs: 200 },
  async (w) => {
    const round = async () => {
      const c = new DesktopClient(w.url, { cookie: w.admin, origin: ORIGIN, protocols: ["binary"] });
      try {
        await until(() => c.closed !== null, WAIT_MS, "the refused socket to close");
        assert.equal(c.opened, false);
      } finally {
        c.close();
      }
      const res = await w.t.request("GET", `/api/v1/instances/${w.id}/desktop/websockify`, {
        cookie: w.admin,
        headers: { ...WS_HANDSHAKE, origin: ORIGIN },
      });
      assert.equal(res.status, 503);
      assert.equal((await res.json()).code, "SSH_UNAVAILABLE");
    };
    await round(); // warm-up
    const base = await settledHold(counters(w));
    for (let n = 1; n <= ROUNDS; n++) await round();
    await assertHoldsNoMore(base, `${ROUNDS} desktop sockets refused with 503`, counters(w), SETTLE_MS);
    assert.equal(w.t.services.audit.query({ action: "desktop.open", limit: 10, offset: 0 }).entries.length, 0);
  },
);
