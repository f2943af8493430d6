import assert from "node:assert/strict";
import { boundaryOf, multipartParts } from "../../../plugins/files/multipart.ts";
import { attachment } from "../../../plugins/files/content_disposition.ts";
import { normalizePath } from "../../../plugins/files/paths.ts";
import { multipart } from "./_files_fixture.ts";

/** `bytes` as a stream of `size`-byte chunks (so boundaries fall across chunks). */
function chunked(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(c) {
      if (at >= bytes.length) return c.close();
      c.enqueue(bytes.slice(at, at += size));
    },
  });
}

Deno.test("multipart: parts come out byte-exact whatever the chunking, names decoded as browsers send them", async () => {
  const a = new Uint8Array(1000).map((_, i) => i & 0xff);
  // Content that contains the boundary's prefix and CRLFs, to tempt a naive parser.
  const b = new TextEncoder().encode("\r\n--\r\n------claworcX\r\n--");
  const { body, contentType } = multipart(
    [{ name: `a "q" ü.bin`, data: a }, { name: "b.txt", data: b }],
    "----claworcXY",
  );
  const boundary = boundaryOf(contentType)!;
  assert.equal(boundary, "----claworcXY");
  for (const size of [1, 2, 3, 7, 64, 100_000]) {
    const got: { filename: string | null; data: number[] }[] = [];
    for await (const part of multipartParts(chunked(body, size), boundary)) {
      const data: number[] = [];
      for await (const chunk of part.body) data.push(...chunk);
      got.push({ filename: part.filename, data });
    }
    assert.deepEqual(got.map((p) => p.filename), [`a "q" ü.bin`, "b.txt"], `chunk ${size}`);
    assert.deepEqual(got[0].data, [...a], `chunk ${size}`);
    assert.deepEqual(got[1].data, [...b], `chunk ${size}`);
  }
});

Deno.test("multipart: content passes as views of the chunks that arrived, not copies", async () => {
  const content = new Uint8Array(64 * 1024).fill(0x61);
  const { body, contentType } = multipart([{ name: "a.bin", data: content }], "----claworcZ");
  const sent: Uint8Array[] = [];
  let at = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      if (at >= body.length) return c.close();
      const chunk = body.slice(at, at += 4096);
      sent.push(chunk);
      c.enqueue(chunk);
    },
  });
  let bytes = 0, views = 0, pieces = 0;
  for await (const part of multipartParts(stream, boundaryOf(contentType)!)) {
    for await (const piece of part.body) {
      pieces++;
      bytes += piece.length;
      if (sent.some((chunk) => chunk.buffer === piece.buffer)) views++;
    }
  }
  assert.equal(bytes, content.length);
  // Only the first piece (behind the headers, joined to the parser's leading CRLF) is a copy.
  assert.ok(pieces >= 16, `${pieces} pieces`);
  assert.equal(views, pieces - 1);
});

Deno.test("multipart: a body cut short is a 400, not a silent partial file", async () => {
  const { body } = multipart([{ name: "x", data: new Uint8Array(100) }], "b0");
  const cut = body.slice(0, body.length - 20);
  await assert.rejects(async () => {
    for await (const part of multipartParts(chunked(cut, 16), "b0")) for await (const _ of part.body) { /* read */ }
  }, /Invalid multipart body/);
  assert.equal(boundaryOf("application/json"), null);
  assert.equal(boundaryOf('multipart/form-data; boundary="a b"'), "a b");
});

Deno.test("content-disposition: ASCII fallback that cannot break out, exact UTF-8 name", () => {
  assert.equal(attachment("plain.txt"), `attachment; filename="plain.txt"; filename*=UTF-8''plain.txt`);
  const header = attachment(`a"b\\c\r\nd ü'.txt`);
  assert.match(header, /^attachment; filename="a_b_c__d _'\.txt"; filename\*=UTF-8''/);
  assert.equal(decodeURIComponent(header.split("''")[1]), `a"b\\c\r\nd ü'.txt`);
});

Deno.test("paths: normalized, or refused with a reason", () => {
  assert.equal(normalizePath("/a//b/./c/"), "/a/b/c");
  assert.equal(normalizePath("/"), "/");
  for (const bad of ["", "a/b", "/a/../b", "/a/..", "/a\0b", `/${"x".repeat(256)}`, "/" + "a/".repeat(3000)]) {
    assert.throws(
      () => normalizePath(bad),
      (e: Error & { code?: string }) => e.code === "VALIDATION_FAILED",
      bad.slice(0, 20),
    );
  }
});
