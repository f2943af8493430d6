/** The first line of an asciicast v2 file (https://docs.asciinema.org/manual/asciicast/v2/). */
export interface AsciicastHeader {
  version: 2;
  width: number;
  height: number;
  /** Unix seconds when the recording began. */
  timestamp: number;
  title?: string;
  env?: Record<string, string>;
}

/** Where an `AsciicastWriter` puts its bytes (a `Deno.FsFile` is one). */
export interface CastSink {
  /** Writes some of `p`, resolving with how many bytes were written. */
  write(p: Uint8Array): Promise<number>;
  close(): void;
}

/** Limits and timing of one writer. */
export interface AsciicastWriterOptions {
  /** Largest file, header and truncation note included; output past it is dropped and the file says so. */
  maxBytes: number;
  /** Events waiting at least this many bytes are written at once. */
  flushBytes: number;
  /** Otherwise, waiting events are written at most this long after the first of them. */
  flushMs: number;
  /** Events waiting beyond this (the disk is not keeping up) end the recording with a note instead of growing memory. */
  maxPendingBytes: number;
  /** A monotonic clock in ms (event times are relative to the first reading). */
  now?: () => number;
  /** Told once when writing fails (the recording stops; the terminal goes on). */
  onError?: (e: Error) => void;
}

/** Room kept below `maxBytes` for the truncation note. */
const NOTE_ROOM = 256;

/**
 * Writes one asciicast v2 recording: the header line, then `[seconds, "o", text]` for output and
 * `[seconds, "r", "COLSxROWS"]` for resizes, with times that never go backwards. Output bytes are
 * decoded as one UTF-8 stream, so a character split across chunks stays whole. Events are batched
 * (one write per `flushBytes` or `flushMs`, one write in flight), the file is capped at `maxBytes`,
 * and no method throws: a failing disk stops the recording, never the terminal.
 */
export class AsciicastWriter {
  #sink: CastSink;
  #opts: AsciicastWriterOptions;
  #now: () => number;
  #start: number;
  #last = 0;
  #decoder = new TextDecoder();
  #encoder = new TextEncoder();
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #size = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #writing: Promise<void> | null = null;
  #stopped = false;
  #failed = false;
  #closed: Promise<void> | null = null;
  /** Why output stopped being recorded before the end (null while it is recorded in full). */
  truncated: string | null = null;

  constructor(sink: CastSink, header: AsciicastHeader, opts: AsciicastWriterOptions) {
    this.#sink = sink;
    this.#opts = opts;
    this.#now = opts.now ?? (() => performance.now());
    this.#start = this.#now();
    this.#push(JSON.stringify(header));
    this.#flushSoon();
  }

  /** Bytes of the file so far (written or waiting). */
  get bytes(): number {
    return this.#size;
  }

  /** Terminal output as the browser got it. */
  output(chunk: Uint8Array): void {
    if (this.#stopped) return;
    const text = this.#decoder.decode(chunk, { stream: true });
    if (text) this.#event("o", text);
  }

  /** The terminal's new size. */
  resize(cols: number, rows: number): void {
    if (!this.#stopped) this.#event("r", `${cols}x${rows}`);
  }

  /** Writes what waits now (never rejects). */
  async flush(): Promise<void> {
    this.#flushNow();
    while (this.#writing) await this.#writing;
  }

  /** Writes what waits and closes the file (idempotent; never rejects). */
  close(): Promise<void> {
    if (this.#closed) return this.#closed;
    if (!this.#stopped) {
      const rest = this.#decoder.decode();
      if (rest) this.#event("o", rest);
    }
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#closed = (async () => {
      while (this.#writing) await this.#writing;
      if (this.#pending.length) await this.#drain();
      try {
        this.#sink.close();
      } catch { /* already closed */ }
    })();
    return this.#closed;
  }

  #event(code: "o" | "r", data: string): void {
    const elapsed = Math.round((this.#now() - this.#start) * 1000) / 1e6;
    this.#last = Math.max(this.#last, elapsed);
    const line = JSON.stringify([this.#last, code, data]);
    if (this.#size + line.length * 3 + 1 > this.#opts.maxBytes - NOTE_ROOM) {
      // Precise check only near the cap (a UTF-16 unit is at most 3 UTF-8 bytes).
      const bytes = this.#encoder.encode(line).length + 1;
      if (this.#size + bytes > this.#opts.maxBytes - NOTE_ROOM) {
        return this.#truncate(`size limit of ${this.#opts.maxBytes} bytes reached`);
      }
    }
    if (this.#pendingBytes > this.#opts.maxPendingBytes) {
      return this.#truncate("the disk did not keep up");
    }
    this.#push(line);
    if (this.#pendingBytes >= this.#opts.flushBytes) this.#flushNow();
    else this.#flushSoon();
  }

  /** Ends the recording early with a marker and a visible note (both fit in `NOTE_ROOM`). */
  #truncate(why: string): void {
    this.truncated = why;
    this.#stopped = true;
    const t = this.#last;
    this.#push(JSON.stringify([t, "m", "truncated"]));
    this.#push(JSON.stringify([t, "o", `\r\n\x1b[0m[Recording stopped: ${why}.]\r\n`]));
    this.#flushNow();
  }

  #push(line: string): void {
    const bytes = this.#encoder.encode(line + "\n");
    this.#pending.push(bytes);
    this.#pendingBytes += bytes.length;
    this.#size += bytes.length;
  }

  #flushSoon(): void {
    if (this.#timer === undefined && !this.#writing) {
      this.#timer = setTimeout(() => this.#flushNow(), this.#opts.flushMs);
    }
  }

  #flushNow(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#writing || this.#failed) return;
    this.#writing = this.#drain().finally(() => {
      this.#writing = null;
      // What arrived during the write goes on the usual schedule.
      if (this.#pending.length && !this.#closed) this.#flushSoon();
    });
  }

  async #drain(): Promise<void> {
    while (this.#pending.length && !this.#failed) {
      const parts = this.#pending;
      this.#pending = [];
      this.#pendingBytes = 0;
      const data = parts.length === 1 ? parts[0] : concat(parts);
      try {
        for (let off = 0; off < data.length;) off += await this.#sink.write(data.subarray(off));
      } catch (e) {
        this.#failed = true;
        this.#stopped = true;
        this.#pending = [];
        this.#opts.onError?.(e as Error);
      }
    }
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
