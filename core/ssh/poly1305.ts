/**
 * Poly1305 (RFC 8439 §2.5) in our own WebAssembly module (scripts/poly1305_wat.ts, compiled into
 * poly1305_wasm.ts): about 1.4× the speed of the compiled C that ssh2 ships, measured in
 * BENCHMARKS.md. Used by chacha_poly.ts for every packet of chacha20-poly1305@openssh.com.
 */
import { Buffer } from "node:buffer";
import { POLY1305_WASM } from "./poly1305_wasm.ts";

/** Layout of the module's memory (scripts/poly1305_wat.ts). */
const TAG_AT = 32;
const MESSAGE_AT = 64;
const PAGE = 65536;

/** Bytes of a Poly1305 tag. */
export const TAG = 16;

let compiled: WebAssembly.Module | undefined;

/** Computes tags in its own instance of the module, whose memory grows to the largest message so far. */
export class Poly1305 {
  readonly #memory: WebAssembly.Memory;
  readonly #auth: (length: number) => void;
  #heap: Uint8Array;

  constructor() {
    compiled ??= new WebAssembly.Module(Buffer.from(POLY1305_WASM, "base64"));
    const { exports } = new WebAssembly.Instance(compiled);
    this.#memory = exports.memory as WebAssembly.Memory;
    this.#auth = exports.auth as (length: number) => void;
    this.#heap = new Uint8Array(this.#memory.buffer);
  }

  /** The tag of `first` followed by `second` under `key` (its first 32 bytes), into `into` at `at`. */
  tag(key: Uint8Array, first: Uint8Array, second: Uint8Array, into: Uint8Array, at: number): void {
    const length = first.length + second.length;
    if (MESSAGE_AT + length > this.#heap.length) {
      this.#memory.grow(Math.ceil((MESSAGE_AT + length - this.#heap.length) / PAGE));
      this.#heap = new Uint8Array(this.#memory.buffer);
    }
    const heap = this.#heap;
    heap.set(key.subarray(0, 32), 0);
    heap.set(first, MESSAGE_AT);
    heap.set(second, MESSAGE_AT + first.length);
    this.#auth(length);
    into.set(heap.subarray(TAG_AT, TAG_AT + TAG), at);
  }
}
