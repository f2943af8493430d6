import assert from "node:assert/strict";
import fc from "fast-check";
import { BytePattern } from "../../../plugins/files/byte_search.ts";

/** The plain definition: the first i ≥ from where every byte matches. */
function naive(hay: Uint8Array, needle: Uint8Array, from: number): number {
  for (let i = Math.max(0, from); i + needle.length <= hay.length; i++) {
    let j = 0;
    while (j < needle.length && hay[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

Deno.test("byte search: the same answer as a plain scan, over small alphabets where near-matches abound", () => {
  const bytes = (max: number) => fc.uint8Array({ minLength: 0, maxLength: max }).map((a) => a.map((b) => b % 3));
  fc.assert(
    fc.property(
      bytes(300),
      fc.uint8Array({ minLength: 1, maxLength: 12 }).map((a) => a.map((b) => b % 3)),
      fc.nat(320),
      (hay, needle, from) => {
        assert.equal(new BytePattern(needle).indexIn(hay, from), naive(hay, needle, from));
      },
    ),
    { numRuns: 3000 },
  );
});

Deno.test("byte search: a multipart delimiter found at the start, the end, across repeats, or not at all", () => {
  const enc = new TextEncoder();
  const delimiter = new BytePattern(enc.encode("\r\n--boundary123"));
  const text = (s: string) => enc.encode(s);
  assert.equal(delimiter.indexIn(text("\r\n--boundary123 rest")), 0);
  assert.equal(delimiter.indexIn(text("data\r\n--boundary12\r\n--boundary123")), 18);
  assert.equal(delimiter.indexIn(text("data\r\n--boundary12")), -1);
  assert.equal(delimiter.indexIn(text("\r\n--boundary123\r\n--boundary123"), 1), 15);
  assert.equal(delimiter.indexIn(new Uint8Array(0)), -1);
  assert.throws(() => new BytePattern(new Uint8Array(0)), /empty/);
});
