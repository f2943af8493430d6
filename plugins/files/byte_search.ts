/**
 * Searching bytes for a fixed pattern (a multipart boundary): Boyer–Moore–Horspool, which looks at
 * one byte per pattern length in most places. Scanning every byte for the pattern's first one, as
 * the parser did, cost about a millisecond per MB of upload (a "\r" comes every 256 bytes of
 * random data); this is a small fraction of that.
 */
export class BytePattern {
  readonly bytes: Uint8Array;
  /** How far the window may move when its last byte is b: the pattern's length, or less if b is in it. */
  readonly #shift = new Int32Array(256);

  constructor(bytes: Uint8Array) {
    if (bytes.length === 0) throw new Error("A byte pattern cannot be empty.");
    this.bytes = bytes;
    const last = bytes.length - 1;
    this.#shift.fill(bytes.length);
    for (let i = 0; i < last; i++) this.#shift[bytes[i]] = last - i;
  }

  /** Index of the first occurrence in `hay` at or after `from`, or -1. */
  indexIn(hay: Uint8Array, from = 0): number {
    const needle = this.bytes, last = needle.length - 1, end = hay.length - needle.length;
    const tail = needle[last];
    for (let i = Math.max(0, from); i <= end;) {
      const c = hay[i + last];
      if (c === tail) {
        let j = last - 1;
        while (j >= 0 && hay[i + j] === needle[j]) j--;
        if (j < 0) return i;
      }
      i += this.#shift[c];
    }
    return -1;
  }
}
