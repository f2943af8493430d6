import { until } from "../../harness/pool.ts";
import * as rfb from "./_rfb.ts";

/** A control message from the server (`plugins/desktop/protocol.ts`). */
export interface ControlFrame {
  type: string;
  controller: string | null;
  you: boolean;
  viewers: number;
}

/**
 * A test client of the desktop WebSocket, as a browser running noVNC would be: RFB bytes in binary
 * frames (kept in order, read with `read`), JSON control frames collected apart, and the close.
 */
export class DesktopClient {
  readonly ws: WebSocket;
  readonly control: ControlFrame[] = [];
  closed: { code: number; reason: string } | null = null;
  opened = false;
  #buf = new Uint8Array(1 << 16);
  #len = 0;
  #at = 0;

  constructor(url: string, opts: { cookie?: string; origin?: string; protocols?: string[] } = {}) {
    const headers: Record<string, string> = {};
    if (opts.cookie) headers.cookie = opts.cookie;
    if (opts.origin) headers.origin = opts.origin;
    this.ws = new WebSocket(url, { headers, protocols: opts.protocols } as unknown as string[]);
    this.ws.binaryType = "arraybuffer";
    this.ws.onopen = () => this.opened = true;
    this.ws.onmessage = (e) => {
      if (typeof e.data === "string") return void this.control.push(JSON.parse(e.data));
      this.#append(new Uint8Array(e.data as ArrayBuffer));
    };
    this.ws.onclose = (e) => this.closed = { code: e.code, reason: e.reason };
    this.ws.onerror = () => {};
  }

  /** Binary bytes received in all. */
  get received(): number {
    return this.#len;
  }

  /** The last control frame (who controls). */
  get state(): ControlFrame | undefined {
    return this.control.at(-1);
  }

  /** The next `n` unread bytes, once they have arrived. */
  async read(n: number, timeoutMs = 20_000, what = `${n} bytes`): Promise<Uint8Array> {
    await until(() => this.#len - this.#at >= n || this.closed !== null, timeoutMs, what);
    if (this.#len - this.#at < n) throw new Error(`${what}: socket closed (${JSON.stringify(this.closed)})`);
    const out = this.#buf.slice(this.#at, this.#at + n);
    this.#at += n;
    return out;
  }

  /** Bytes received from `from` to the end (absolute offsets), without moving the read position. */
  slice(from: number, to = this.#len): Uint8Array {
    return this.#buf.subarray(from, to);
  }

  /** Skips whatever arrived so far. */
  skip(): void {
    this.#at = this.#len;
  }

  send(bytes: Uint8Array): void {
    this.ws.send(bytes);
  }

  take(): void {
    this.ws.send(JSON.stringify({ type: "take_control" }));
  }

  release(): void {
    this.ws.send(JSON.stringify({ type: "release_control" }));
  }

  /** The client half of the RFB handshake with security type None; returns the ServerInit's size. */
  async handshake(): Promise<{ banner: string; width: number; height: number }> {
    const banner = new TextDecoder().decode(await this.read(12, 20_000, "the RFB banner"));
    this.send(rfb.text("RFB 003.008\n"));
    const [count] = await this.read(1, 10_000, "the security types");
    const types = [...await this.read(count)];
    if (!types.includes(1)) throw new Error(`the server offers no security type None: ${types}`);
    this.send(Uint8Array.of(1));
    const result = new DataView((await this.read(4, 10_000, "the security result")).buffer).getUint32(0);
    if (result !== 0) throw new Error(`security result ${result}`);
    this.send(Uint8Array.of(1));
    const init = new DataView((await this.read(24, 10_000, "ServerInit")).buffer);
    await this.read(init.getUint32(20), 10_000, "the desktop name");
    return { banner, width: init.getUint16(0), height: init.getUint16(2) };
  }

  close(): void {
    this.ws.close();
  }

  #append(bytes: Uint8Array): void {
    if (this.#len + bytes.length > this.#buf.length) {
      const grown = new Uint8Array(Math.max(this.#buf.length * 2, this.#len + bytes.length));
      grown.set(this.#buf.subarray(0, this.#len));
      this.#buf = grown;
    }
    this.#buf.set(bytes, this.#len);
    this.#len += bytes.length;
  }
}
