import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { desktopPlugin } from "../../../plugins/desktop/mod.tsx";
import { ORIGIN, WS_HANDSHAKE } from "../../_helpers/harness.ts";
import { until } from "../../harness/pool.ts";
import { DesktopClient } from "./_desktop_client.ts";
import { desktopWorld } from "./_desktop_world.ts";
import { CLOSE_TRIGGER, FLOOD_BYTES, FLOOD_TRIGGER, floodChunk } from "./_fake_websockify.ts";
import * as rfb from "./_rfb.ts";

Deno.test({
  name: "desktop proxy: byte-exact to websockify's place, viewers' input never arrives, control, closes, flood",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const plugin = desktopPlugin({ recheckMs: 300 });
    const w = await desktopWorld("record", [plugin]);
    const clients: DesktopClient[] = [];
    const open = (cookie: string, protocols?: string[]) => {
      const c = new DesktopClient(w.url, { cookie, origin: ORIGIN, protocols });
      clients.push(c);
      return c;
    };
    const opened = (n: number) => until(() => w.events.filter((e) => e.event === "open").length === n, 10_000);
    const conns = () => w.events.filter((e) => e.event === "open").map((e) => e.conn as number);
    /** Waits until the fake websockify got exactly `bytes` on `conn` (and nothing more arrives for a moment). */
    const arrived = async (conn: number, bytes: Uint8Array, what: string) => {
      await until(() => w.receivedBy(conn).length >= bytes.length, 10_000, what).catch(() => {});
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(w.receivedBy(conn), bytes, what);
    };
    try {
      const userId = await w.t.createUser(w.admin, "viewer");
      w.t.services.users.setAssignedInstances(userId, [w.id]);
      const viewerCookie = await w.t.login("viewer", "viewer-password-1");

      // The browser's subprotocol offer reaches websockify, whose choice is the answer; the RFB banner comes through.
      const a = open(w.admin, ["binary"]);
      await opened(1);
      const [connA] = conns();
      assert.deepEqual(
        (({ path, host, protocol }) => ({ path, host, protocol }))(w.events.find((e) => e.conn === connA)!),
        { path: "/websockify", host: "127.0.0.1:3000", protocol: "binary" },
      );
      assert.equal(new TextDecoder().decode(await a.read(12)), "RFB 003.008\n");
      assert.equal(a.ws.protocol, "binary");
      await until(() => a.state?.viewers === 1, 5_000, "a's first control frame");
      assert.deepEqual(a.state, { type: "control", controller: null, you: false, viewers: 1 });

      const b = open(viewerCookie);
      await opened(2);
      const connB = conns()[1];
      assert.equal(w.events.find((e) => e.conn === connB)!.protocol, undefined, "no offer, no subprotocol");
      await b.read(12);
      assert.equal(b.ws.protocol, "");
      await until(() => a.state?.viewers === 2 && b.state?.viewers === 2, 5_000, "both told of two viewers");

      // Nobody controls: each one's handshake and pixel requests arrive, their keys, pointer and clipboard do not.
      const pixels = rfb.concat(
        rfb.setPixelFormat(),
        rfb.setEncodings([7, 0, -223]),
        rfb.updateRequest(true, 0, 0, 64, 64),
      );
      const input = (n: number) => rfb.concat(rfb.key(true, 0x61 + n), rfb.pointer(1, n, n), rfb.cutText(`clip-${n}`));
      a.send(rfb.handshake());
      a.send(rfb.concat(input(1), pixels, input(2)));
      let wantA = rfb.concat(rfb.handshake(), pixels);
      await arrived(connA, wantA, "a as a viewer: handshake and pixel requests only");
      b.send(rfb.concat(rfb.handshake(), input(3)));
      let wantB = rfb.handshake();
      await arrived(connB, wantB, "b as a viewer");

      // a takes control: everyone is told, and a's input now arrives byte for byte; b's still does not.
      a.take();
      await until(() => a.state?.you === true && b.state?.controller === "admin", 5_000, "control to a");
      assert.deepEqual(b.state, { type: "control", controller: "admin", you: false, viewers: 2 });
      a.send(input(4));
      b.send(rfb.concat(input(5), rfb.updateRequest(false, 1, 2, 3, 4)));
      wantA = rfb.concat(wantA, input(4));
      wantB = rfb.concat(wantB, rfb.updateRequest(false, 1, 2, 3, 4));
      await arrived(connA, wantA, "the controller's input");
      await arrived(connB, wantB, "b still a viewer");

      // b takes it over: a is a viewer again.
      b.take();
      await until(() => b.state?.you === true && a.state?.controller === "viewer" && !a.state.you, 5_000, "to b");
      a.send(input(6));
      b.send(input(7));
      wantB = rfb.concat(wantB, input(7));
      await arrived(connA, wantA, "a demoted: its input dropped");
      await arrived(connB, wantB, "b's input arrives");

      // Release: nobody controls, nobody's input arrives.
      b.release();
      await until(() => a.state?.controller === null && b.state?.controller === null, 5_000, "released");
      b.send(input(8));
      await arrived(connB, wantB, "released: b's input dropped");

      // Websockify's side sends 32 MiB: it arrives whole and in order (the channel pauses while the socket is full).
      const from = a.received;
      a.send(FLOOD_TRIGGER);
      await until(() => a.received - from >= FLOOD_BYTES, 60_000, "the flood");
      const want = createHash("sha256"), got = createHash("sha256");
      for (let i = 0; i < FLOOD_BYTES / 65_536; i++) want.update(floodChunk(i));
      got.update(a.slice(from, from + FLOOD_BYTES));
      assert.equal(got.digest("hex"), want.digest("hex"));

      // The browser closes: websockify's connection closes and control is handed back to the room.
      b.take();
      await until(() => a.state?.controller === "viewer", 5_000);
      b.close();
      await until(() => w.events.some((e) => e.event === "close" && e.conn === connB), 10_000, "upstream closed");
      await until(() => a.state?.controller === null && a.state.viewers === 1, 5_000, "control freed by the close");

      // Websockify closes: the browser's socket closes too.
      a.send(CLOSE_TRIGGER);
      await until(() => a.closed !== null, 10_000, "the browser socket to close after websockify's");
      assert.equal(a.closed?.code, 1000);
      await until(() => w.t.services.ssh.openChannels().tunnel === 0, 10_000, "no tunnel channel left");

      // A browser sending what is not RFB 3.7/3.8 is cut off (1002) rather than passed on blindly.
      const bad = open(w.admin);
      await bad.read(12);
      bad.send(rfb.text("RFB 003.003\n"));
      await until(() => bad.closed !== null, 10_000, "the protocol error close");
      assert.equal(bad.closed?.code, 1002);

      // Sign-in ended (4001) and access removed (4003) close the socket at the next re-check.
      const gone = open(viewerCookie);
      await gone.read(12);
      await w.t.request("POST", "/api/v1/auth/logout", { cookie: viewerCookie });
      await until(() => gone.closed !== null, 5_000, "close after sign-out");
      assert.equal(gone.closed?.code, 4001);
      const again = await w.t.login("viewer", "viewer-password-1");
      const removed = open(again);
      await removed.read(12);
      w.t.services.users.setAssignedInstances(userId, []);
      await until(() => removed.closed !== null, 5_000, "close after losing access");
      assert.equal(removed.closed?.code, 4003);

      // The plugin closing (server shutdown) ends sockets with 1001 (the island reconnects later).
      const last = open(w.admin);
      await last.read(12);
      await plugin.close?.();
      await until(() => last.closed !== null, 5_000, "close at shutdown");
      assert.equal(last.closed?.code, 1001);

      const audit = w.t.services.audit.query({ limit: 200, offset: 0 }).entries;
      const opens = audit.filter((e) => e.action === "desktop.open");
      assert.ok(opens.length >= 6, `${opens.length} opens audited`);
      assert.ok(opens.some((e) => e.actor === "admin" && e.details.protocol === "binary"));
      const controls = audit.filter((e) => e.action === "desktop.control").map((e) => [e.actor, e.details.action]);
      assert.deepEqual(controls.reverse(), [
        ["admin", "take"],
        ["viewer", "take"],
        ["viewer", "release"],
        ["viewer", "take"],
        ["viewer", "release"],
      ]);
    } finally {
      for (const c of clients) c.close();
      await w.close();
    }
  },
});

Deno.test({
  name: "desktop proxy: websockify unreachable answers 503 before any upgrade",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    // The recorder is not what listens on port 3000 here: a different tunnel target name the pool has no port for.
    const w = await desktopWorld("record", [desktopPlugin({ host: "127.0.0.1:3000", tunnel: "gateway" })]);
    try {
      const res = await w.t.request("GET", `/api/v1/instances/${w.id}/desktop/websockify`, {
        cookie: w.admin,
        headers: { ...WS_HANDSHAKE, origin: ORIGIN },
      });
      assert.equal(res.status, 503);
      assert.equal((await res.json()).code, "SSH_UNAVAILABLE");
      assert.equal(w.t.services.ssh.openChannels().tunnel, 0);
      // Not audited (the island retries every few seconds while an instance is down).
      assert.equal(w.t.services.audit.query({ action: "desktop.open", limit: 10, offset: 0 }).entries.length, 0);
    } finally {
      await w.close();
    }
  },
});
