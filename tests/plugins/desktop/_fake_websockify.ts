/**
 * A stand-in for the instance's websockify, for the desktop proxy's tests and bench: a WebSocket server
 * on 127.0.0.1:<port> (run inside a test network namespace, behind a harness sshd, so it sits where
 * websockify sits for a real instance) that upgrades any path and picks the subprotocol `binary` when
 * offered, as websockify does. Modes:
 * - `echo`: every binary frame is sent back (the bench's round trips);
 * - `record`: sends the RFB 3.8 banner on open like x11vnc, and reports each connection and every
 *   byte it receives on stdout as JSON lines; a FramebufferUpdateRequest for 65535×65535 at (65535,
 *   65535) makes it send `FLOOD_BYTES` of data in 64 KiB frames (back-pressure, integrity), one at
 *   (65534, 65534) makes it close the connection.
 *
 * Run as `deno run -A _fake_websockify.ts <port> <echo|record>`; prints `listening` once ready.
 */
import { Buffer } from "node:buffer";

export const FLOOD_BYTES = 32 << 20;
/** The FramebufferUpdateRequest that asks the recorder for a flood. */
export const FLOOD_TRIGGER = Uint8Array.of(3, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
/** The FramebufferUpdateRequest that makes the recorder close the connection (1000). */
export const CLOSE_TRIGGER = Uint8Array.of(3, 0, 0xff, 0xfe, 0xff, 0xfe, 0xff, 0xfe, 0xff, 0xfe);

/** The flood's bytes: a counter pattern, so a lost or reordered frame changes the digest. */
export function floodChunk(i: number): Uint8Array {
  const chunk = new Uint8Array(65_536);
  new DataView(chunk.buffer).setUint32(0, i);
  chunk.fill(i & 0xff, 4);
  return chunk;
}

function serve(port: number, mode: string) {
  let next = 0;
  const say = (o: Record<string, unknown>) => console.log(JSON.stringify(o));
  Deno.serve({ hostname: "127.0.0.1", port, onListen: () => say({ event: "listening" }) }, (req) => {
    const path = new URL(req.url).pathname, host = req.headers.get("host");
    const offered = (req.headers.get("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim());
    const protocol = offered.includes("binary") ? "binary" : undefined;
    const { socket, response } = Deno.upgradeWebSocket(req, protocol ? { protocol } : {});
    socket.binaryType = "arraybuffer";
    const conn = ++next;
    socket.onopen = () => {
      if (mode !== "record") return;
      say({ event: "open", conn, path, host, protocol });
      socket.send(new TextEncoder().encode("RFB 003.008\n"));
    };
    socket.onmessage = (e) => {
      if (typeof e.data === "string") return mode === "record" && say({ event: "text", conn, text: e.data });
      const bytes = new Uint8Array(e.data as ArrayBuffer);
      if (mode === "echo") return socket.send(bytes);
      say({ event: "data", conn, bytes: Buffer.from(bytes).toString("base64") });
      const is = (trigger: Uint8Array) => bytes.length === trigger.length && bytes.every((b, i) => b === trigger[i]);
      if (is(FLOOD_TRIGGER)) { for (let i = 0; i < FLOOD_BYTES / 65_536; i++) socket.send(floodChunk(i)); }
      if (is(CLOSE_TRIGGER)) socket.close(1000, "closed by the test");
    };
    socket.onclose = (e) => mode === "record" && say({ event: "close", conn, code: e.code });
    socket.onerror = () => {};
    return response;
  });
}

if (import.meta.main) serve(Number(Deno.args[0]), Deno.args[1]);
