import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import net from "node:net";
import type { Duplex } from "node:stream";
import { type ChannelWebSocket, openChannelWebSocket } from "../../../core/ssh/channel_websocket.ts";
import { until } from "../../harness/pool.ts";

/** A TCP connection as a duplex stream (in production the stream is an SSH direct-tcpip channel). */
function tcp(port: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1", () => resolve(s));
    s.once("error", reject);
  });
}

function collect(ws: ChannelWebSocket) {
  const got: (string | Uint8Array)[] = [];
  let closed: { code: number; reason: string } | null = null;
  ws.onmessage = (m) => got.push(m);
  ws.onclose = (code, reason) => closed = { code, reason };
  return { got, closed: () => closed };
}

Deno.test("channel WebSocket: handshake, subprotocol, text and binary both ways, big messages, close", async () => {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req, { protocol: "binary" });
    socket.binaryType = "arraybuffer";
    socket.onmessage = (e) => {
      if (e.data === "bye") return socket.close(4321, "done here");
      socket.send(typeof e.data === "string" ? `echo:${e.data}` : new Uint8Array(e.data).reverse());
    };
    return response;
  });
  try {
    const ws = await openChannelWebSocket(await tcp(server.addr.port), {
      host: `127.0.0.1:${server.addr.port}`,
      path: "/websockify",
      protocols: ["binary", "base64"],
    });
    assert.equal(ws.protocol, "binary");
    const c = collect(ws);
    ws.send("héllo €");
    ws.send(new Uint8Array([1, 2, 3]));
    const big = new Uint8Array(3 << 20).map((_, i) => i % 251);
    ws.send(big);
    await until(() => c.got.length === 3, 10_000, "three answers");
    assert.equal(c.got[0], "echo:héllo €");
    assert.deepEqual(c.got[1], new Uint8Array([3, 2, 1]));
    assert.deepEqual(c.got[2], big.slice().reverse());
    ws.send("bye");
    await until(() => c.closed() !== null, 5_000, "the server's close");
    assert.deepEqual(c.closed(), { code: 4321, reason: "done here" });
  } finally {
    await server.shutdown();
  }
});

/** A raw TCP server that answers the handshake (optionally wrongly) and then writes `frames`. */
function rawServer(frames: Uint8Array[], opts: { badAccept?: boolean; status?: string } = {}) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const received: Uint8Array[] = [];
  (async () => {
    for await (const conn of listener) {
      const buf = new Uint8Array(4096);
      const n = (await conn.read(buf)) ?? 0;
      const req = new TextDecoder().decode(buf.subarray(0, n));
      const key = /Sec-WebSocket-Key: (.*)\r\n/.exec(req)?.[1] ?? "";
      const accept = createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");
      const answer = `HTTP/1.1 ${opts.status ?? "101 Switching Protocols"}\r\nUpgrade: websocket\r\n` +
        `Connection: Upgrade\r\nSec-WebSocket-Accept: ${opts.badAccept ? "x" + accept : accept}\r\n\r\n`;
      await conn.write(Buffer.concat([Buffer.from(answer), ...frames]));
      for (;;) {
        const m = await conn.read(buf).catch(() => null);
        if (m === null) break;
        received.push(buf.slice(0, m));
      }
      conn.close();
    }
  })().catch(() => {});
  return { port: (listener.addr as Deno.NetAddr).port, received, close: () => listener.close() };
}

const frame = (b0: number, payload: Uint8Array | string, b1Extra = 0) => {
  const p = typeof payload === "string" ? Buffer.from(payload) : Buffer.from(payload);
  return Buffer.concat([Buffer.from([b0, b1Extra | p.length]), p]);
};

/** Unmasks the client's frames (they are always masked) into [opcode, payload] pairs. */
function clientFrames(chunks: Uint8Array[]): [number, Buffer][] {
  const b = Buffer.concat(chunks);
  const out: [number, Buffer][] = [];
  for (let at = 0; at < b.length;) {
    assert.ok(b[at + 1] & 0x80, "client frames are masked");
    const len = b[at + 1] & 0x7f;
    assert.ok(len < 126, "small frames only in this test");
    const mask = b.subarray(at + 2, at + 6);
    const payload = Buffer.from(b.subarray(at + 6, at + 6 + len).map((x, i) => x ^ mask[i & 3]));
    out.push([b[at] & 0x0f, payload]);
    at += 6 + len;
  }
  return out;
}

Deno.test("channel WebSocket: fragments joined, pings answered, then a masked server frame is a protocol error", async () => {
  const s = rawServer([
    frame(0x01, "frag-"), // text, not final
    frame(0x89, "are-you-there"), // a ping between fragments
    frame(0x80, "ment"), // final continuation
    frame(0x82, new Uint8Array([9, 8])),
    frame(0x81, "masked!", 0x80), // server frames must not be masked
  ]);
  try {
    const ws = await openChannelWebSocket(await tcp(s.port), { host: "instance" });
    const c = collect(ws);
    await until(() => c.closed() !== null, 5_000, "the protocol error");
    assert.deepEqual(c.got, ["frag-ment", new Uint8Array([9, 8])]);
    assert.equal(c.closed()!.code, 1002);
    await until(() => clientFrames(s.received).length >= 2, 5_000, "pong and close");
    const sent = clientFrames(s.received);
    assert.deepEqual(sent[0], [0x0a, Buffer.from("are-you-there")], "the ping is answered with its payload");
    assert.equal(sent[1][0], 0x08);
    assert.equal(sent[1][1].readUInt16BE(0), 1002);
  } finally {
    s.close();
  }
});

Deno.test("channel WebSocket: invalid UTF-8 (1007) and oversize messages (1009) close the socket", async () => {
  for (
    const [frames, max, code] of [
      [[frame(0x81, new Uint8Array([0xc3, 0x28]))], undefined, 1007],
      [[frame(0x01, "x".repeat(60)), frame(0x80, "y".repeat(60))], 100, 1009],
    ] as [Uint8Array[], number | undefined, number][]
  ) {
    const s = rawServer(frames);
    try {
      const ws = await openChannelWebSocket(await tcp(s.port), { host: "instance", maxMessageBytes: max });
      const c = collect(ws);
      await until(() => c.closed() !== null, 5_000, `close ${code}`);
      assert.equal(c.closed()!.code, code);
      assert.deepEqual(c.got, []);
    } finally {
      s.close();
    }
  }
});

Deno.test("channel WebSocket: a refused upgrade, a wrong accept key and header injection are errors", async () => {
  for (const opts of [{ status: "403 Forbidden" }, { badAccept: true }]) {
    const s = rawServer([], opts);
    try {
      await assert.rejects(openChannelWebSocket(await tcp(s.port), { host: "instance" }), /refused|wrongly/);
    } finally {
      s.close();
    }
  }
  const s = rawServer([]);
  try {
    const stream = await tcp(s.port);
    await assert.rejects(openChannelWebSocket(stream, { host: "a\r\nX-Evil: 1" }), /Invalid WebSocket handshake/);
    stream.destroy();
  } finally {
    s.close();
  }
});
