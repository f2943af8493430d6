import assert from "node:assert/strict";
import {
  AppError,
  type ChannelWebSocket,
  definePlugin,
  type RuntimeBackend,
  type SshEndpoint,
} from "../../core/mod.ts";
import { authorizedLine } from "../../core/ssh/authorized_line.ts";
import { chatPlugin } from "../../plugins/chat/mod.tsx";
import { MAX_FRAME_CHARS, MAX_FRAMES_PER_SECOND } from "../../plugins/chat/socket.ts";
import { frameBudget } from "../../core/http/frame_budget.ts";
import { desktopDefaults } from "../../plugins/desktop/options.ts";
import { desktopPlugin } from "../../plugins/desktop/mod.tsx";
import * as desktopProtocol from "../../plugins/desktop/protocol.ts";
import { pump } from "../../plugins/desktop/pump.ts";
import { terminalDefaults } from "../../plugins/terminal/options.ts";
import { terminalPlugin } from "../../plugins/terminal/mod.tsx";
import * as terminalProtocol from "../../plugins/terminal/protocol.ts";
import { ORIGIN, type TestApp, testApp, WS_HANDSHAKE } from "../_helpers/harness.ts";
import { fixedBackend } from "../harness/fixed_backend.ts";
import { until } from "../harness/pool.ts";
import { startSshd } from "../harness/sshd.ts";
import { ChatClient } from "../plugins/chat/_chat_client.ts";
import { DesktopClient } from "../plugins/desktop/_desktop_client.ts";
import { desktopWorld } from "../plugins/desktop/_desktop_world.ts";
import * as rfb from "../plugins/desktop/_rfb.ts";
import { TermClient } from "../plugins/terminal/_ws_client.ts";

/**
 * Every WebSocket route bounds what a browser can make the server hold or do: an oversized frame or
 * a flood of frames ends the socket with a documented close code (1009 on all three), the server
 * keeps answering, and nothing is left open. (The SSE routes, `/api/v1/events` and the logs stream,
 * take no input after the request.) The close frame reaches a client that stops sending; Deno drops
 * a connection whose peer keeps sending data after the server's close frame, so a client still in
 * mid-flood sees an abnormal closure (1006) instead: both are checked.
 *
 * | route                                   | frame size                          | floods                                   |
 * | --------------------------------------- | ----------------------------------- | ---------------------------------------- |
 * | `/instances/:id/chat`                   | text ≤ MAX_FRAME_CHARS, no binary   | ≤ MAX_FRAMES_PER_SECOND                  |
 * | `/instances/:id/terminal`               | control ≤ MAX_CONTROL_FRAME_CHARS   | control ≤ MAX_CONTROL_FRAMES_PER_SECOND; |
 * |                                         |                                     | input waiting ≤ inputMaxBuffered         |
 * | `/instances/:id/desktop/websockify`     | control ≤ MAX_CONTROL_FRAME_CHARS   | control ≤ MAX_CONTROL_FRAMES_PER_SECOND; |
 * |                                         |                                     | input waiting ≤ inputMaxBuffered         |
 *
 * Beneath all of them Deno refuses a single frame over 64 MiB before any JavaScript sees it.
 */

const WS_ROUTES = [
  "GET /api/v1/instances/:id/chat",
  "GET /api/v1/instances/:id/terminal",
  "GET /api/v1/instances/:id/desktop/websockify",
];

/** Waits for `ms`. */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A gauge from /metrics (e.g. `claworc_chat_sockets`). */
async function gauge(t: TestApp, cookie: string, name: string): Promise<number> {
  const res = await t.request("GET", "/metrics", { cookie });
  assert.equal(res.status, 200);
  const line = (await res.text()).split("\n").find((l) => l.startsWith(`${name} `));
  assert.ok(line, `${name} in /metrics`);
  return Number(line.split(" ")[1]);
}

async function healthy(t: TestApp): Promise<void> {
  const res = await t.request("GET", "/health");
  assert.equal(res.status, 200, "the app still answers /health");
  await res.body?.cancel();
}

Deno.test("the WebSocket routes in the registry are the ones bounded here", async () => {
  const t = await testApp();
  try {
    const ws = t.registry.routes.filter((r) => r.kind === "websocket").map((r) => `${r.method} ${r.path}`).sort();
    assert.deepEqual(ws, [...WS_ROUTES].sort(), "a new WebSocket route needs its bounds proved in this file");
  } finally {
    await t.close();
  }
});

/**
 * A runtime backend whose SSH endpoint never comes (an agent still starting): a chat socket stays in
 * "connecting" with no gateway, which is all the chat's own bounds need.
 */
function stalledBackend(waiting: Set<(e: Error) => void>) {
  const refuse = () => Promise.reject(new AppError("BAD_REQUEST", "The stalled test backend cannot do that."));
  const backend: RuntimeBackend = {
    name: "stalled",
    available: () => Promise.resolve(true),
    createVolumes: refuse,
    createWorkload: refuse,
    removeWorkload: refuse,
    start: refuse,
    stop: refuse,
    restart: refuse,
    remove: refuse,
    status: () => Promise.resolve({ status: "running" }),
    list: () => Promise.resolve([]),
    sshEndpoint: () => new Promise<SshEndpoint>((_, reject) => waiting.add(reject)),
    logs: () => Promise.resolve(""),
  };
  return definePlugin({ name: "stalled-backend", needs: [], setup: (ctx) => ctx.provideBackend(backend) });
}

Deno.test({
  name: "every WebSocket route refuses a request that is no whole handshake with 400, before it opens anything",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    // An instance whose SSH endpoint never comes: a route that reached for SSH before checking the
    // handshake would hang here instead of answering.
    const waiting = new Set<(e: Error) => void>();
    const t = await testApp({}, [stalledBackend(waiting), chatPlugin(), terminalPlugin(), desktopPlugin()]);
    try {
      const admin = await t.setupAdmin();
      const { id } = t.services.instances.insert("bot-half", "Half");
      t.services.instances.setRuntime(id, { gateway_token: await t.services.secrets.encrypt("test-gateway-token") });
      const full = WS_HANDSHAKE;
      const halves: [Record<string, string>, RegExp][] = [
        [{ upgrade: "websocket" }, /lacks Connection: Upgrade, Sec-WebSocket-Key\.$/],
        [{ ...full, connection: "keep-alive" }, /lacks Connection: Upgrade\.$/],
        [{ upgrade: "websocket", connection: "keep-alive, Upgrade" }, /lacks Sec-WebSocket-Key\.$/],
        [{ ...full, upgrade: "h2c" }, /lacks Upgrade: websocket\.$/],
      ];
      for (const route of WS_ROUTES) {
        const path = route.split(" ")[1].replace(":id", String(id));
        for (const [headers, why] of halves) {
          const answer = t.request("GET", path, { cookie: admin, headers });
          const res = await Promise.race([
            answer,
            sleep(5_000).then(() => assert.fail(`${route} did not answer ${JSON.stringify(headers)} within 5 s`)),
          ]);
          const body = await res.json();
          assert.equal(res.status, 400, `${route} with ${JSON.stringify(headers)}: ${JSON.stringify(body)}`);
          assert.equal(body.code, "BAD_REQUEST");
          assert.match(body.detail, why);
        }
      }
      assert.equal(waiting.size, 0, "no route asked for the instance's SSH endpoint");
      assert.deepEqual(Object.values(t.services.ssh.openChannels()), [0, 0, 0, 0, 0]);
      await healthy(t);
    } finally {
      for (const reject of waiting) reject(new Error("test over"));
      await t.close();
    }
  },
});

Deno.test({
  name: "chat socket: an oversized or binary frame and a flood of frames close it with 1009; over 64 MiB Deno drops it",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const waiting = new Set<(e: Error) => void>();
    const t = await testApp({}, [stalledBackend(waiting), chatPlugin()]);
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req, info) => t.app.fetch(req, info));
    const clients: ChatClient[] = [];
    try {
      const admin = await t.setupAdmin();
      const { id } = t.services.instances.insert("bot-chat", "Chat");
      t.services.instances.setRuntime(id, { gateway_token: await t.services.secrets.encrypt("test-gateway-token") });
      const url = `ws://127.0.0.1:${server.addr.port}/api/v1/instances/${id}/chat`;
      /** A chat socket told "connecting" (upgraded; its gateway never comes). */
      const connecting = async () => {
        const c = new ChatClient(url, { cookie: admin, origin: ORIGIN });
        clients.push(c);
        await until(() => c.of("state").length > 0 || c.closed !== null, 10_000, "the chat's first frame");
        assert.deepEqual(c.frames[0], { type: "state", state: "connecting" });
        return c;
      };
      const closedWith = async (c: ChatClient, what: string) => {
        await until(() => c.closed !== null, 10_000, what);
        return c.closed!;
      };

      // A text frame one character over the cap.
      const big = await connecting();
      big.ws.send(JSON.stringify({ type: "send", text: "x".repeat(MAX_FRAME_CHARS) }).slice(0, MAX_FRAME_CHARS + 1));
      assert.deepEqual(await closedWith(big, "the oversized frame's close"), {
        code: 1009,
        reason: "Frame too large.",
      });

      // Binary frames are not part of the protocol.
      const binary = await connecting();
      binary.ws.send(new Uint8Array(16));
      assert.deepEqual(await closedWith(binary, "the binary frame's close"), {
        code: 1009,
        reason: "Frame too large.",
      });

      // A second's worth of messages is served (each answered: the agent is not connected), again the
      // next second; the first message past the allowance ends the socket with 1009.
      const paced = await connecting();
      const burst = (n: number, text: string) => {
        for (let i = 0; i < n; i++) paced.send({ type: "send", text: `${text} ${i}` });
      };
      burst(MAX_FRAMES_PER_SECOND, "hello");
      await until(() => paced.of("error").length === MAX_FRAMES_PER_SECOND, 10_000, "an answer to each message");
      assert.match(String(paced.of("error")[0].message), /not connected/);
      await sleep(1_100);
      burst(MAX_FRAMES_PER_SECOND + 1, "again");
      assert.deepEqual(await closedWith(paced, "the close past the allowance"), {
        code: 1009,
        reason: "Too many messages.",
      });
      assert.equal(paced.of("error").length, 2 * MAX_FRAMES_PER_SECOND, "the message past the allowance is not served");

      // A sustained flood, valid messages or junk (each would be answered), is cut off the same way; Deno
      // drops a connection whose peer keeps sending after the close frame, so this client may see 1006.
      for (const frame of [JSON.stringify({ type: "send", text: "flood" }), "{not json"]) {
        const flood = await connecting();
        for (let i = 0; i < 2_000; i++) flood.ws.send(frame);
        await closedWith(flood, "the flood's close");
        assert.ok(flood.of("error").length <= MAX_FRAMES_PER_SECOND, `${flood.of("error").length} answers`);
      }

      // One frame over Deno's own 64 MiB limit never reaches the plugin: the connection is dropped.
      const huge = await connecting();
      huge.ws.send(new Uint8Array((64 << 20) + 1));
      const dropped = await closedWith(huge, "the 64 MiB frame's close");
      assert.notEqual(dropped.code, 1000);

      await until(async () => await gauge(t, admin, "claworc_chat_sockets") === 0, 10_000, "no chat socket left");
      await healthy(t);
      // Nothing was sent to the agent: none of these sockets ever had a gateway.
      assert.equal(t.services.audit.query({ action: "chat.send", limit: 10, offset: 0 }).entries.length, 0);
    } finally {
      for (const c of clients) c.close();
      for (const reject of waiting) reject(new Error("test over"));
      await server.shutdown();
      await t.close();
    }
  },
});

Deno.test({
  name: "terminal socket (real sshd + tmux): control frames bounded in size and rate, stalled input cut at 4 MiB",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const endpoints = new Map<string, SshEndpoint>();
    const t = await testApp({}, [fixedBackend(endpoints), terminalPlugin()]);
    const cleanup: (() => Promise<unknown> | void)[] = [() => t.close()];
    const clients: TermClient[] = [];
    try {
      const sshd = await startSshd({
        authorizedKeys: [authorizedLine(t.services.sshKeys.publicKey, t.services.ssh.targets)],
      });
      cleanup.push(() => sshd.close());
      endpoints.set("bot-term", { host: sshd.host, port: sshd.port, username: sshd.user });
      const { id } = t.services.instances.insert("bot-term", "Term");
      const admin = await t.setupAdmin();
      const server = Deno.serve(
        { hostname: "127.0.0.1", port: 0, onListen() {} },
        (req, info) => t.app.fetch(req, info),
      );
      cleanup.push(() => server.shutdown());
      await t.services.ssh.connect(id);
      const open = async (session: string) => {
        const c = new TermClient(
          `ws://127.0.0.1:${server.addr.port}/api/v1/instances/${id}/terminal?session_id=${session}`,
          { cookie: admin, origin: ORIGIN },
        );
        clients.push(c);
        await until(() => c.frames("session").length === 1 || c.closed !== null, 20_000, `session ${session}`);
        assert.equal(c.frames("session").length, 1, `session ${session} opened: ${JSON.stringify(c.closed)}`);
        return c;
      };
      const closedWith = async (c: TermClient, what: string) => {
        await until(() => c.closed !== null, 20_000, what);
        return c.closed!;
      };
      const { MAX_CONTROL_FRAME_CHARS, MAX_CONTROL_FRAMES_PER_SECOND } = terminalProtocol;

      // A control frame over the cap (the bytes would be parsed as JSON otherwise).
      const big = await open("big");
      big.ws.send(" ".repeat(MAX_CONTROL_FRAME_CHARS + 1));
      assert.deepEqual(await closedWith(big, "the oversized control frame's close"), {
        code: 1009,
        reason: "Control frame too large.",
      });

      // A second's worth of resizes is served, again the next second; the first past it ends the socket.
      const paced = await open("paced");
      for (let i = 0; i < MAX_CONTROL_FRAMES_PER_SECOND; i++) paced.resize(80 + (i % 2), 24);
      await until(() => paced.frames("resized").length === MAX_CONTROL_FRAMES_PER_SECOND, 10_000, "each resize");
      await sleep(1_100);
      for (let i = 0; i <= MAX_CONTROL_FRAMES_PER_SECOND; i++) paced.resize(80 + (i % 2), 24);
      assert.deepEqual(await closedWith(paced, "the close past the allowance"), {
        code: 1009,
        reason: "Too many control frames.",
      });
      assert.equal(paced.frames("resized").length, 2 * MAX_CONTROL_FRAMES_PER_SECOND, "the one past it not served");

      // A sustained flood is cut off the same way (the client may see 1006: it kept sending after the close).
      const flood = await open("flood");
      for (let i = 0; i < 5_000; i++) flood.resize(80 + (i % 2), 24);
      await closedWith(flood, "the resize flood's close");
      assert.ok(flood.frames("resized").length <= MAX_CONTROL_FRAMES_PER_SECOND, "answers stop at the allowance");

      // Input nobody reads: the tmux client behind the PTY is stopped, so once SSH's window is full the
      // input waits in the server. The browser is told to pause; ignoring that past inputMaxBuffered ends
      // the socket (1009) instead of buffering without bound.
      const stalled = await open("stall");
      // (The bracket keeps pkill from matching the shell that runs it.)
      const signal = (sig: string) => t.services.ssh.exec(id, `pkill -${sig} -f 'attach-session -t [=]cw-stall'; true`);
      await signal("STOP");
      // One MiB at a time, each once the last has left, so the close frame finds this client listening.
      const chunk = new Uint8Array(1 << 20).fill(0x5a);
      let sent = 0;
      while (stalled.closed === null && sent < terminalDefaults.inputMaxBuffered + (8 << 20)) {
        stalled.type(chunk);
        sent += chunk.length;
        await until(() => stalled.ws.bufferedAmount === 0, 10_000, "the frame to leave");
        await sleep(100);
      }
      const cut = await closedWith(stalled, "the input overflow close");
      await signal("CONT");
      assert.deepEqual(cut, { code: 1009, reason: "Input arrived faster than the terminal reads it." });
      assert.ok(stalled.frames("pause").length >= 1, "told to pause before being cut off");
      assert.ok(sent > terminalDefaults.inputMaxBuffered, `cut off after ${sent} bytes, not before the limit`);

      await until(async () => await gauge(t, admin, "claworc_terminal_sockets") === 0, 10_000, "no socket left");
      await until(() => t.services.ssh.openChannels().pty === 0, 10_000, "no PTY channel left");
      await healthy(t);
      // The sessions outlive their sockets (detached, not killed), as after any close.
      const sessions = await t.request("GET", `/api/v1/instances/${id}/terminal/sessions`, { cookie: admin });
      assert.equal(sessions.status, 200);
      const names = ((await sessions.json()).sessions as { session_id: string }[]).map((s) => s.session_id).sort();
      assert.deepEqual(names, ["big", "flood", "paced", "stall"]);
    } finally {
      for (const c of clients) c.close();
      for (const f of cleanup.reverse()) await Promise.resolve().then(f).catch(() => {});
    }
  },
});

Deno.test({
  name: "desktop socket (real sshd + websockify stand-in): control frames bounded in size and rate, huge input cut",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const w = await desktopWorld("record", [desktopPlugin()]);
    const clients: DesktopClient[] = [];
    try {
      const { MAX_CONTROL_FRAME_CHARS, MAX_CONTROL_FRAMES_PER_SECOND } = desktopProtocol;
      const open = async () => {
        const c = new DesktopClient(w.url, { cookie: w.admin, origin: ORIGIN });
        clients.push(c);
        assert.equal(new TextDecoder().decode(await c.read(12)), "RFB 003.008\n");
        await until(() => c.state !== undefined, 5_000, "the first control frame");
        return c;
      };
      const closedWith = async (c: DesktopClient, what: string) => {
        await until(() => c.closed !== null, 20_000, what);
        return c.closed!;
      };

      // A control frame over the cap.
      const big = await open();
      big.ws.send(JSON.stringify({ type: "take_control", pad: "x".repeat(MAX_CONTROL_FRAME_CHARS) }));
      assert.deepEqual(await closedWith(big, "the oversized control frame's close"), {
        code: 1009,
        reason: "Control frame too large.",
      });

      // Take and release (each one audited and sent to every viewer): the first frame past the
      // allowance ends the socket, so at most that many control changes are audited per socket.
      const audited = () => w.t.services.audit.query({ action: "desktop.control", limit: 5_000, offset: 0 }).total;
      const paced = await open();
      for (let i = 0; i <= MAX_CONTROL_FRAMES_PER_SECOND; i++) i % 2 ? paced.release() : paced.take();
      assert.deepEqual(await closedWith(paced, "the close past the allowance"), {
        code: 1009,
        reason: "Too many control frames.",
      });
      assert.equal(audited(), MAX_CONTROL_FRAMES_PER_SECOND, "one audit entry per allowed take or release");

      // A sustained flood is cut off the same way (the client may see 1006: it kept sending after the close).
      const flood = await open();
      for (let i = 0; i < 2_000; i++) flood.take();
      await closedWith(flood, "the control flood's close");
      // The allowed takes, and the release of control as the socket ends.
      assert.equal(audited(), 2 * MAX_CONTROL_FRAMES_PER_SECOND + 1);

      // The controller's single frame of more than inputMaxBuffered (an 8 MiB clipboard) cannot wait
      // in the server behind SSH's window: 1009, and the socket's channel is gone.
      const huge = await open();
      huge.send(rfb.handshake());
      huge.take();
      await until(() => huge.state?.you === true, 5_000, "control");
      const size = desktopDefaults.inputMaxBuffered * 2;
      huge.send(rfb.concat(rfb.cutTextHeader(size), new Uint8Array(size).fill(0x61)));
      assert.deepEqual(await closedWith(huge, "the input overflow close"), {
        code: 1009,
        reason: "Input arrived faster than the desktop takes it.",
      });

      await until(async () => await gauge(w.t, w.admin, "claworc_desktop_sockets") === 0, 10_000, "no socket left");
      await until(() => w.t.services.ssh.openChannels().tunnel === 0, 10_000, "no tunnel channel left");
      await healthy(w.t);
    } finally {
      for (const c of clients) c.close();
      await w.close();
    }
  },
});

/** A WebSocket double: the browser's socket as the pump sees it. */
class BrowserSocket extends EventTarget {
  readyState: number = WebSocket.OPEN;
  bufferedAmount = 0;
  send() {}
  close() {}
}

Deno.test("desktop pump: a browser flooding a stalled desktop is cut off once inputMaxBuffered bytes wait", () => {
  // websockify's side never drains (x11vnc stopped): everything sent stays buffered.
  const held = { bytes: 0 };
  const up = {
    protocol: "",
    get bufferedAmount() {
      return held.bytes;
    },
    onmessage: null,
    onclose: null,
    send: (bytes: Uint8Array) => void (held.bytes += bytes.length),
    pause() {},
    resume() {},
    close() {},
  } as unknown as ChannelWebSocket;
  const browser = new BrowserSocket();
  const failures: [number, string][] = [];
  const limits = { outputHighWater: 1 << 20, outputLowWater: 256 << 10, inputMaxBuffered: 1 << 20 };
  const stop = pump(browser as unknown as WebSocket, up, limits, {
    filter: (bytes) => bytes,
    control: () => {},
    // As the socket does: the first failure ends the session and the pump with it.
    fail: (code, reason) => (failures.push([code, reason]), stop()),
  });
  const frame = 64 << 10;
  for (let i = 0; i < 1_000; i++) browser.dispatchEvent(new MessageEvent("message", { data: new ArrayBuffer(frame) }));
  assert.deepEqual(failures, [[1009, "Input arrived faster than the desktop takes it."]]);
  assert.ok(held.bytes > limits.inputMaxBuffered, "cut off only past the limit");
  assert.ok(held.bytes <= limits.inputMaxBuffered + frame, `${held.bytes} bytes held, not 64 MB`);
});

Deno.test("frame budgets: the allowance per second, then refused until the next second", () => {
  let now = 5_000;
  const allow = frameBudget(3, () => now);
  assert.deepEqual([allow(), allow(), allow(), allow(), allow()], [true, true, true, false, false]);
  now += 999;
  assert.equal(allow(), false, "still the same second");
  now += 1;
  assert.deepEqual([allow(), allow(), allow(), allow()], [true, true, true, false]);
});
