/**
 * Turns a byte stream into lines: UTF-8 decoded across chunk boundaries, `\r\n` and `\n` endings
 * removed, and any line longer than `maxChars` cut (with a marker) so one runaway line cannot hold
 * unbounded memory.
 */
export class LineSplitter {
  #decoder = new TextDecoder();
  #partial = "";
  /** A line was sent cut before its end arrived: what comes up to the next newline is dropped. */
  #cutting = false;

  constructor(private readonly maxChars: number) {}

  /** The complete lines in `chunk` (what follows the last newline waits for the next chunk). */
  push(chunk: Uint8Array): string[] {
    const text = this.#partial + this.#decoder.decode(chunk, { stream: true });
    const parts = text.split("\n");
    this.#partial = parts.pop()!;
    if (this.#cutting && parts.length) {
      parts.shift(); // the rest of the line already sent cut, not a line of its own
      this.#cutting = false;
    }
    if (this.#cutting) this.#partial = "";
    else if (this.#partial.length > this.maxChars) {
      parts.push(this.#partial);
      this.#partial = "";
      this.#cutting = true;
    }
    return parts.map((l) => this.#clean(l));
  }

  /** What is left once the stream ended (a last line without a newline), if anything. */
  end(): string[] {
    const rest = this.#partial + this.#decoder.decode();
    this.#partial = "";
    const cut = this.#cutting;
    this.#cutting = false;
    return rest && !cut ? [this.#clean(rest)] : [];
  }

  #clean(line: string): string {
    const l = line.endsWith("\r") ? line.slice(0, -1) : line;
    return l.length > this.maxChars ? `${l.slice(0, this.maxChars)} [… line cut at ${this.maxChars} characters]` : l;
  }
}

/** What the writer takes from a queue next: a run of lines, or how many lines were dropped there. */
export type QueueItem = { lines: string[] } | { gap: number };

/**
 * Lines waiting to be sent to one client, bounded by a character budget. Lines that do not fit are
 * dropped and counted where they were lost, so a slow reader costs a `gap` marker in the right place,
 * never unbounded memory.
 */
export class LineQueue {
  #items: (string | { gap: number })[] = [];
  #chars = 0;

  constructor(private readonly maxChars: number) {}

  push(lines: readonly string[]): void {
    for (const line of lines) {
      if (this.#chars + line.length > this.maxChars) {
        const last = this.#items.at(-1);
        if (typeof last === "object") last.gap++;
        else this.#items.push({ gap: 1 });
        continue;
      }
      this.#items.push(line);
      this.#chars += line.length;
    }
  }

  get empty(): boolean {
    return this.#items.length === 0;
  }

  /** The oldest gap, or up to `max` of the oldest lines before the next gap; null when empty. */
  next(max: number): QueueItem | null {
    const first = this.#items[0];
    if (first === undefined) return null;
    if (typeof first === "object") {
      this.#items.shift();
      return { gap: first.gap };
    }
    let n = 0;
    while (n < max && n < this.#items.length && typeof this.#items[n] === "string") n++;
    const lines = this.#items.splice(0, n) as string[];
    for (const l of lines) this.#chars -= l.length;
    return { lines };
  }
}
