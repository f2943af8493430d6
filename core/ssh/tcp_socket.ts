import { Buffer } from "node:buffer";
import { Duplex } from "node:stream";

/** An idle connection reads into this much (keepalives and probes are a few hundred bytes). */
const SMALL_READ_BYTES = 4 * 1024;
/** A connection whose reads fill the small buffer moves to this one, for bulk transfers. */
const LARGE_READ_BYTES = 64 * 1024;
/** A connection whose reads have not filled the small buffer for this long goes back to it. */
const LARGE_IDLE_MS = 5_000;

/** Chunks queued behind a pending write are copied into a reused buffer of this size and written together. */
const STAGING_BYTES = 256 * 1024;

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
  /** Where queued chunks are joined for one write (see `_writev`), and when it was last used. */
  #staging: Uint8Array | null = null;
  #lastStaged = 0;

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

  /** The size of the buffer queued writes are joined in, 0 when there is none (for tests and metrics). */
  get stagingBufferBytes(): number {
    return this.#staging?.length ?? 0;
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
    // Back to writing one chunk at a time: the staging buffer goes once it has been unused a while.
    if (this.#staging && performance.now() - this.#lastStaged > this.largeIdleMs) this.#staging = null;
    this.#writeAll(chunk).then(() => done(), (e) => done(e as Error));
  }

  /**
   * Chunks ssh2 queued while a write was pending (during a transfer, the sealed packets of a whole
   * channel write): copied into a staging buffer that is reused once its write is done, and written
   * 256 KiB at a time. Under Deno a write costs more than copying its bytes, and a fresh buffer
   * to join them into costs more than both; a chunk as large as the buffer goes as it is.
   */
  override _writev(chunks: { chunk: Uint8Array }[], done: (error?: Error | null) => void): void {
    (async () => {
      const staging = this.#staging ??= new Uint8Array(STAGING_BYTES);
      this.#lastStaged = performance.now();
      let used = 0;
      const flush = async () => {
        if (used) await this.#writeAll(staging.subarray(0, used));
        used = 0;
      };
      for (const { chunk } of chunks) {
        if (chunk.length >= STAGING_BYTES) {
          await flush();
          await this.#writeAll(chunk);
          continue;
        }
        if (used + chunk.length > STAGING_BYTES) await flush();
        staging.set(chunk, used);
        used += chunk.length;
      }
      await flush();
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
