/**
 * ssh2's own Poly1305 (its compiled C, as WebAssembly): the reference our module
 * (core/ssh/poly1305.ts) is checked against in tests and measured against in `deno task bench`.
 */
import createPoly1305 from "ssh2/lib/protocol/crypto/poly1305.js";

/** ssh2's emscripten exports: `poly1305_auth(out, m1, m1len, m2, m2len, key)` over m1 then m2. */
interface Ssh2Poly1305 {
  HEAPU8: Uint8Array;
  _malloc(size: number): number;
  _poly1305_auth(out: number, m1: number, m1len: number, m2: number, m2len: number, key: number): void;
}

/** A function giving ssh2's tag of `message` under `key` (32 bytes), for messages up to `capacity` bytes. */
export async function ssh2Poly1305(capacity = 1 << 17): Promise<(key: Uint8Array, message: Uint8Array) => Uint8Array> {
  const wasm = await createPoly1305() as Ssh2Poly1305;
  const out = wasm._malloc(16), key = wasm._malloc(32), data = wasm._malloc(capacity);
  return (k, message) => {
    if (message.length > capacity) throw new Error(`ssh2Poly1305 holds ${capacity} bytes at most.`);
    wasm.HEAPU8.set(k.subarray(0, 32), key);
    wasm.HEAPU8.set(message, data);
    wasm._poly1305_auth(out, data, message.length, data + message.length, 0, key);
    return wasm.HEAPU8.slice(out, out + 16);
  };
}
