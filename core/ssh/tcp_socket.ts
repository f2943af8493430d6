import { Buffer } from "node:buffer";
import { Duplex } from "node:stream";

/** An idle connection reads into this much (keepalives and probes are a few hundred bytes). */
const SMALL_READ_BYTES = 4 * 1024;
/** A connection whose reads fill the small buffer moves to this one, for bulk transfers. */
const LARGE_READ_BYTES = 64 * 1024;
/** A connection whose reads have not filled the small buffer for this long goes back to it. */
const LARGE_IDLE_MS = 5_000;

/** A queued chunk at least this large is written on its own rather than copied into a joined one. */
const JOIN_BELOW_BYTES = 16 * 1024;

/** `chunks` in order, with each run of chunks under JOIN_BELOW_BYTES joined into one buffer. */
export function joinSmall(chunks: Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let run: Uint8Array[] = [];
  const flush = () => {
    if (run.length) out.push(run.length === 1 ? run[0] : Buffer.concat(run));
    run = [];
  };
  for (const chunk of chunks) {
    if (chunk.length >= JOIN_BELOW_BYTES) {
      flush();
      out.push(chunk);
    } else run.push(chunk);
  }
  flush();
  return out;
}

export interface TcpSocketOptions {
  /** Time allowed for the TCP connection. */
  timeoutMs: number;
  /** After this long without a full small read the large buffer is freed (default 5 s). */
  largeIdleMs?: number;
}

/**
 * The TCP stream ssh2 speaks over: a Node Duplex on Deno's own `Deno.TcpConn`.
 *
 * Node's `net.Socket` under Deno allocates a fresh 64 KiB buffer for every read, so a thousand mostly
 * idle connections (keepalives, probes) turn over megabytes a second for the garbage collector. Here
 * each connection reuses a buffer of its own and hands ssh2 a right-sized copy: 4 KiB while it is
 * quiet, 64 KiB from a read that fills that until reads stay short for 5 s (a tunnel or SFTP transfer), so a thousand idle connections
 * hold 4 MB, not 64. ssh2 takes a stream without `connecting` as already connected.
 */
export class TcpSocket extends Duplex {
  readonly localAddress: string;
  readonly #conn: Deno.TcpConn;
  readonly #small = new Uint8Array(SMALL_READ_BYTES);
  #large: Uint8Array | null = null;
  /** When a read last filled the small buffer (performance.now()). */
  #lastFull = 0;
  #reading = false;

  private constructor(conn: Deno.TcpConn, private readonly largeIdleMs: number) {
    super({ allowHalfOpen: false });
    this.#conn = conn;
    this.localAddress = conn.localAddr.hostname;
  }

  /** Connects within `timeoutMs` (a late connection is closed at once). */
  static async connect(hostname: string, port: number, options: TcpSocketOptions): Promise<TcpSocket> {
    const { timeoutMs, largeIdleMs = LARGE_IDLE_MS } = options;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const connecting = Deno.connect({ hostname, port });
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        connecting.then((c) => c.close(), () => {});
        reject(new Error(`Timed out while connecting to ${hostname}:${port}`));
      }, timeoutMs);
    });
    try {
      return new TcpSocket(await Promise.race([connecting, late]), largeIdleMs);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The size of the buffer the next read goes into (for tests and metrics). */
  get readBufferBytes(): number {
    return (this.#large ?? this.#small).length;
  }

  setNoDelay(noDelay = true): this {
    try {
      this.#conn.setNoDelay(noDelay);
    } catch { /* closed already */ }
    return this;
  }

  override _read(): void {
    if (this.#reading) return;
    this.#reading = true;
    void this.#pump();
  }

  /** Reads until ssh2 has enough buffered (push returns false) or the peer ends. */
  async #pump(): Promise<void> {
    try {
      while (true) {
        const buffer = this.#large ?? this.#small;
        const n = await this.#conn.read(buffer);
        if (n === null) {
          this.push(null);
          return;
        }
        const more = this.push(Buffer.from(buffer.subarray(0, n)));
        this.#adapt(n);
        if (!more) return;
      }
    } catch (e) {
      if (!this.destroyed) this.destroy(e as Error);
    } finally {
      this.#reading = false;
    }
  }

  /** Grows the read buffer when a read fills the small one; frees the large one once reads stay short. */
  #adapt(n: number): void {
    if (n >= SMALL_READ_BYTES) {
      this.#lastFull = performance.now();
      this.#large ??= new Uint8Array(LARGE_READ_BYTES);
    } else if (this.#large && performance.now() - this.#lastFull > this.largeIdleMs) this.#large = null;
  }

  override _write(chunk: Uint8Array, _encoding: string, done: (error?: Error | null) => void): void {
    this.#writeAll(chunk).then(() => done(), (e) => done(e as Error));
  }

  /**
   * Chunks ssh2 queued while a write was pending: runs of small ones are joined (one write for
   * many), a large one goes as it is (a sealed packet is already one buffer; copying it costs more
   * than the extra write).
   */
  override _writev(chunks: { chunk: Uint8Array }[], done: (error?: Error | null) => void): void {
    (async () => {
      for (const piece of joinSmall(chunks.map((c) => c.chunk))) await this.#writeAll(piece);
    })().then(() => done(), (e) => done(e as Error));
  }

  async #writeAll(data: Uint8Array): Promise<void> {
    for (let sent = 0; sent < data.length;) sent += await this.#conn.write(data.subarray(sent));
  }

  override _final(done: (error?: Error | null) => void): void {
    this.#conn.closeWrite().then(() => done(), () => done());
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    try {
      this.#conn.close();
    } catch { /* closed already */ }
    done(error);
  }
}
