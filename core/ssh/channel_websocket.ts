import { Buffer } from "node:buffer";
import { createHash, randomBytes } from "node:crypto";
import type { Duplex } from "node:stream";
import { AppError } from "../errors.ts";

/** RFC 6455's handshake GUID. */
const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const MAX_HANDSHAKE_BYTES = 16 * 1024;
const OP = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

export interface ChannelWebSocketOptions {
  /** The Host header (the target as the instance sees it, e.g. `127.0.0.1:18789`). */
  host: string;
  path?: string;
  protocols?: string[];
  origin?: string;
  /** A message (all its fragments) larger than this closes the socket with 1009. */
  maxMessageBytes?: number;
  timeoutMs?: number;
}

/** What the socket reports; set the callbacks before the first event can arrive (right after open). */
export interface ChannelWebSocket {
  /** The subprotocol the server chose ("" for none). */
  readonly protocol: string;
  onmessage: (data: string | Uint8Array) => void;
  /** Once, when the socket ends for any reason (1006 when the stream ended without a close frame). */
  onclose: (code: number, reason: string) => void;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  /** Bytes written but not yet taken by the stream (for back-pressure). */
  readonly bufferedAmount: number;
  /** Stops (and restarts) reading from the stream: the SSH window then holds the sender back. */
  pause(): void;
  resume(): void;
}

/**
 * A WebSocket client (RFC 6455) over any duplex byte stream, here an SSH direct-tcpip channel to a
 * service inside the instance: no local listener, so a reconnect never leaves a socket bound to a dead
 * connection. Server frames must be unmasked; client frames are masked; pings are answered; fragments
 * are joined up to `maxMessageBytes`.
 */
export async function openChannelWebSocket(stream: Duplex, opts: ChannelWebSocketOptions): Promise<ChannelWebSocket> {
  const key = randomBytes(16).toString("base64");
  const lines = [
    `GET ${opts.path ?? "/"} HTTP/1.1`,
    `Host: ${opts.host}`,
    "Upgrade: websocket",
    "Connection: Upgrade",
    `Sec-WebSocket-Key: ${key}`,
    "Sec-WebSocket-Version: 13",
  ];
  if (opts.protocols?.length) lines.push(`Sec-WebSocket-Protocol: ${opts.protocols.join(", ")}`);
  if (opts.origin) lines.push(`Origin: ${opts.origin}`);
  for (const l of lines) if (/[\r\n]/.test(l)) throw new AppError("BAD_REQUEST", "Invalid WebSocket handshake header.");
  stream.write(lines.join("\r\n") + "\r\n\r\n");

  const { headers, rest } = await readHandshake(stream, opts.timeoutMs ?? 15_000);
  const status = /^HTTP\/1\.1 (\d{3})/.exec(headers[0] ?? "")?.[1];
  if (status !== "101") {
    stream.destroy();
    throw new AppError("SSH_UNAVAILABLE", `The service refused the WebSocket (${headers[0] ?? "no answer"}).`);
  }
  const header = (name: string) =>
    headers.find((h) => h.toLowerCase().startsWith(`${name}:`))?.slice(name.length + 1).trim() ?? "";
  const expected = createHash("sha1").update(key + GUID).digest("base64");
  const protocol = header("sec-websocket-protocol");
  if (header("sec-websocket-accept") !== expected || (protocol && !opts.protocols?.includes(protocol))) {
    stream.destroy();
    throw new AppError("SSH_UNAVAILABLE", "The service answered the WebSocket handshake wrongly.");
  }
  return new Socket(stream, protocol, opts.maxMessageBytes ?? 32 << 20, rest);
}

function readHandshake(stream: Duplex, timeoutMs: number): Promise<{ headers: string[]; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const done = (err: Error | null, value?: { headers: string[]; rest: Buffer }) => {
      clearTimeout(timer);
      stream.off("data", onData);
      stream.off("close", onClose);
      stream.off("error", onClose);
      if (err) {
        stream.destroy();
        reject(err);
      } else resolve(value!);
    };
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf("\r\n\r\n");
      if (end >= 0) {
        stream.pause();
        done(null, { headers: buf.subarray(0, end).toString("latin1").split("\r\n"), rest: buf.subarray(end + 4) });
      } else if (buf.length > MAX_HANDSHAKE_BYTES) {
        done(new AppError("SSH_UNAVAILABLE", "The WebSocket handshake answer is too long."));
      }
    };
    const onClose = () => done(new AppError("SSH_UNAVAILABLE", "The service closed during the WebSocket handshake."));
    const timer = setTimeout(
      () => done(new AppError("SSH_TIMEOUT", `No WebSocket handshake answer within ${timeoutMs} ms.`)),
      timeoutMs,
    );
    stream.on("data", onData);
    stream.once("close", onClose);
    stream.once("error", onClose);
  });
}

class Socket implements ChannelWebSocket {
  onmessage: (data: string | Uint8Array) => void = () => {};
  onclose: (code: number, reason: string) => void = () => {};
  #buf: Buffer = Buffer.alloc(0);
  #fragments: Buffer[] = [];
  #fragmentBytes = 0;
  #fragmentOp = 0;
  #closed = false;
  #sentClose = false;
  #decoder = new TextDecoder("utf-8", { fatal: true });

  constructor(
    private readonly stream: Duplex,
    readonly protocol: string,
    private readonly maxMessageBytes: number,
    rest: Buffer,
  ) {
    stream.on("data", (chunk: Buffer) => this.#receive(chunk));
    stream.once("close", () => this.#ended(1006, "connection lost"));
    stream.on("error", () => this.#ended(1006, "connection error"));
    // Frames that arrived with the handshake answer are handled once the caller has set its callbacks
    // (a macrotask: it runs after the caller's `await` continuation).
    setTimeout(() => {
      if (rest.length) this.#receive(rest);
      stream.resume();
    }, 0);
  }

  get bufferedAmount(): number {
    return this.stream.writableLength;
  }

  send(data: string | Uint8Array): void {
    if (this.#closed || this.#sentClose) return;
    if (typeof data === "string") this.#frame(OP.text, Buffer.from(data, "utf8"));
    else this.#frame(OP.binary, data);
  }

  close(code = 1000, reason = ""): void {
    if (this.#closed || this.#sentClose) return;
    this.#sentClose = true;
    const r = Buffer.from(reason.slice(0, 120), "utf8");
    const payload = Buffer.alloc(2 + r.length);
    payload.writeUInt16BE(code, 0);
    r.copy(payload, 2);
    this.#frame(OP.close, payload);
    // The server answers with its close and hangs up; do not wait forever for it.
    setTimeout(() => this.#ended(code, reason), 2_000);
  }

  pause(): void {
    this.stream.pause();
  }

  resume(): void {
    this.stream.resume();
  }

  #frame(op: number, payload: Uint8Array): void {
    const len = payload.length;
    const head = len < 126 ? 2 : len < 65_536 ? 4 : 10;
    const out = Buffer.allocUnsafe(head + 4 + len);
    out[0] = 0x80 | op;
    if (len < 126) out[1] = 0x80 | len;
    else if (len < 65_536) {
      out[1] = 0x80 | 126;
      out.writeUInt16BE(len, 2);
    } else {
      out[1] = 0x80 | 127;
      out.writeBigUInt64BE(BigInt(len), 2);
    }
    const mask = randomBytes(4);
    mask.copy(out, head);
    const body = head + 4;
    for (let i = 0; i < len; i++) out[body + i] = payload[i] ^ mask[i & 3];
    if (!this.stream.destroyed) this.stream.write(out);
  }

  #receive(chunk: Buffer): void {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
    while (!this.#closed) {
      const b = this.#buf;
      if (b.length < 2) return;
      const fin = (b[0] & 0x80) !== 0;
      const op = b[0] & 0x0f;
      if ((b[0] & 0x70) !== 0 || (b[1] & 0x80) !== 0) return this.#fail(1002, "reserved bits or a masked server frame");
      let len = b[1] & 0x7f;
      let at = 2;
      if (len === 126) {
        if (b.length < 4) return;
        len = b.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (b.length < 10) return;
        const big = b.readBigUInt64BE(2);
        if (big > BigInt(this.maxMessageBytes)) return this.#fail(1009, "message too big");
        len = Number(big);
        at = 10;
      }
      if (len > this.maxMessageBytes) return this.#fail(1009, "message too big");
      if (b.length < at + len) return;
      const payload = b.subarray(at, at + len);
      this.#buf = b.subarray(at + len);
      this.#handle(fin, op, payload);
    }
  }

  #handle(fin: boolean, op: number, payload: Buffer): void {
    if (op >= 8) {
      if (!fin || payload.length > 125) return this.#fail(1002, "bad control frame");
      if (op === OP.ping) this.#frame(OP.pong, payload);
      else if (op === OP.close) {
        const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        const reason = payload.length > 2 ? payload.subarray(2).toString("utf8") : "";
        if (!this.#sentClose) {
          this.#sentClose = true;
          this.#frame(OP.close, payload.subarray(0, 2));
        }
        this.#ended(code, reason);
      } else if (op !== OP.pong) return this.#fail(1002, "unknown control frame");
      return;
    }
    if (op === OP.continuation) {
      if (!this.#fragmentOp) return this.#fail(1002, "continuation without a message");
    } else if (op === OP.text || op === OP.binary) {
      if (this.#fragmentOp) return this.#fail(1002, "a new message inside a fragmented one");
      this.#fragmentOp = op;
    } else return this.#fail(1002, "unknown opcode");
    this.#fragmentBytes += payload.length;
    if (this.#fragmentBytes > this.maxMessageBytes) return this.#fail(1009, "message too big");
    this.#fragments.push(payload);
    if (!fin) return;
    const whole = this.#fragments.length === 1 ? this.#fragments[0] : Buffer.concat(this.#fragments);
    const kind = this.#fragmentOp;
    this.#fragments = [];
    this.#fragmentBytes = 0;
    this.#fragmentOp = 0;
    if (kind === OP.binary) return this.onmessage(new Uint8Array(whole));
    let text: string;
    try {
      text = this.#decoder.decode(whole);
    } catch {
      return this.#fail(1007, "invalid UTF-8 in a text message");
    }
    this.onmessage(text);
  }

  #fail(code: number, reason: string): void {
    if (!this.#sentClose) {
      this.#sentClose = true;
      const payload = Buffer.alloc(2);
      payload.writeUInt16BE(code, 0);
      this.#frame(OP.close, payload);
    }
    this.#ended(code, reason);
  }

  #ended(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#buf = Buffer.alloc(0);
    this.stream.end();
    setTimeout(() => this.stream.destroy(), 1_000);
    this.onclose(code, reason);
  }
}
