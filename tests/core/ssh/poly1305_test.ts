import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { randomBytes, randomInt } from "node:crypto";
import { Poly1305 } from "../../../core/ssh/poly1305.ts";
import { POLY1305_WASM } from "../../../core/ssh/poly1305_wasm.ts";
import { compilePoly1305 } from "../../../scripts/build_poly1305.ts";
import { ssh2Poly1305 } from "../../harness/ssh2_poly1305.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const unhex = (s: string) => Buffer.from(s.replace(/[\s:]/g, ""), "hex");

function tagOf(poly: Poly1305, key: Uint8Array, first: Uint8Array, second = new Uint8Array(0)): string {
  const into = new Uint8Array(20).fill(0xee);
  poly.tag(key, first, second, into, 2);
  // Exactly the 16 bytes at the offset are written.
  assert.deepEqual([into[0], into[1], into[18], into[19]], [0xee, 0xee, 0xee, 0xee]);
  return hex(into.subarray(2, 18));
}

Deno.test("poly1305: the committed module is scripts/poly1305_wat.ts compiled (run `deno task build-poly1305`)", async () => {
  assert.equal(Buffer.from(await compilePoly1305()).toString("base64"), POLY1305_WASM);
});

Deno.test("poly1305: RFC 8439 test vectors", () => {
  const poly = new Poly1305();
  // §2.5.2
  assert.equal(
    tagOf(
      poly,
      unhex("85:d6:be:78:57:55:6d:33:7f:44:52:fe:42:d5:06:a8:01:03:80:8a:fb:0d:b2:fd:4a:bf:f6:af:41:49:f5:1b"),
      new TextEncoder().encode("Cryptographic Forum Research Group"),
    ),
    "a8061dc1305136c6c22b8baf0c0127a9",
  );
  // Appendix A.3, vector 1: all-zero key and message.
  assert.equal(tagOf(poly, new Uint8Array(32), new Uint8Array(64)), "00000000000000000000000000000000");
  // A.3 vectors 5 and 6: h reaches p and 2^130, the edges of the final reduction.
  assert.equal(
    tagOf(poly, unhex("02" + "00".repeat(31)), new Uint8Array(16).fill(0xff)),
    "03000000000000000000000000000000",
  );
  assert.equal(
    tagOf(poly, unhex("02" + "00".repeat(15) + "ff".repeat(16)), unhex("02" + "00".repeat(15)), new Uint8Array(0)),
    "03000000000000000000000000000000",
  );
  // A.3 vector 7: carries through every limb.
  assert.equal(
    tagOf(
      poly,
      unhex("01" + "00".repeat(31)),
      unhex("ff".repeat(16) + "f0" + "ff".repeat(15) + "11" + "00".repeat(15)),
    ),
    "05000000000000000000000000000000",
  );
});

Deno.test("poly1305: the same tags as ssh2's for every length to 600 bytes, large messages and extreme keys", async () => {
  const ours = new Poly1305(), theirs = await ssh2Poly1305();
  let checked = 0;
  for (let n = 0; n < 900; n++) {
    const length = n < 600 ? n : randomInt(600, 70_000); // past one 64 KiB page: the module's memory grows
    const key = n % 7 === 0 ? new Uint8Array(32).fill(0xff) : randomBytes(32);
    const message = n % 5 === 0 ? new Uint8Array(length).fill(0xff) : randomBytes(length);
    const cut = randomInt(0, length + 1);
    assert.equal(
      tagOf(ours, key, message.subarray(0, cut), message.subarray(cut)),
      hex(theirs(key, message)),
      `length ${length}, split at ${cut}`,
    );
    checked++;
  }
  assert.equal(checked, 900);
});

Deno.test("poly1305: a changed byte or key changes the tag", () => {
  const poly = new Poly1305();
  const key = randomBytes(32), message = randomBytes(1000);
  const tag = tagOf(poly, key, message);
  for (const at of [0, 15, 16, 500, 999]) {
    const changed = Buffer.from(message);
    changed[at] ^= 1;
    assert.notEqual(tagOf(poly, key, changed), tag, `byte ${at}`);
  }
  const otherKey = Buffer.from(key);
  otherKey[31] ^= 0x80;
  assert.notEqual(tagOf(poly, otherKey, message), tag);
});
