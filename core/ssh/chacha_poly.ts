/**
 * chacha20-poly1305@openssh.com for ssh2, cheaper per packet than ssh2's own pure-JS path under Deno
 * (measured in BENCHMARKS.md, "Transport ceiling"). Same construction (OpenSSH's PROTOCOL.chacha20poly1305):
 * the length is hidden with K_1's keystream, the payload encrypted with K_2 from block 1, and the tag
 * is Poly1305 over both ciphertexts keyed with K_2's block 0. What changes is the work per packet:
 *  - one node:crypto cipher per packet instead of three (the Poly1305 key is the start of block 0 of
 *    the same K_2 stream whose block 1 starts the payload; K_1's 4 bytes come from chacha20_block);
 *  - a sealed packet leaves as one buffer (length, payload, tag) instead of three writes;
 *  - Poly1305 runs in our own WebAssembly module (poly1305.ts), faster than ssh2's;
 *  - a packet is built in a reused buffer and encrypted by one ChaCha20 pass that also yields the
 *    Poly1305 key, so sealing makes one new buffer per packet (the one that goes to the socket);
 *  - every cipher is finalized once used. Under Deno a node:crypto cipher holds its native state in
 *    the runtime's resource table until `final()`, which garbage collection never reaches: ssh2's
 *    code (and ours before) left about 600 bytes there per packet, and its long-lived aes*-ctr
 *    ciphers one entry per connection. `installChaChaPoly` also finalizes those when ssh2 frees them.
 * `installChaChaPoly` has ssh2 use these for every connection made after it; `loadSsh2`
 * (core/ssh/ssh2.ts) runs it before the first.
 */
import { Buffer } from "node:buffer";
import { createCipheriv, createDecipheriv, randomFillSync, timingSafeEqual } from "node:crypto";
import { chacha20Block, keyWords, seqnoNonce } from "./chacha20_block.ts";
import { type Poly1305, TAG } from "./poly1305.ts";

/** ssh2's limit for an incoming packet's length field (RFC 4253 asks for 35,000 at least). */
const MAX_PACKET_SIZE = 35000;
const ZEROS_64 = new Uint8Array(64);

/** The nonce block for `seqno` with block counter 0, in OpenSSL's 16-byte chacha20 IV layout. */
function ivFor(iv: Buffer, seqno: number): Buffer {
  iv.fill(0);
  iv.writeUInt32BE(seqno >>> 0, 12);
  return iv;
}

/** XORs the first 4 bytes of K_1's keystream for `seqno` into `bytes[at..at+4]`. */
function maskLength(lengthKey: Uint32Array, seqno: number, bytes: Uint8Array, at: number): void {
  const [low, high] = seqnoNonce(seqno);
  const word = chacha20Block(lengthKey, 0, low, high)[0];
  bytes[at] ^= word & 0xff;
  bytes[at + 1] ^= (word >>> 8) & 0xff;
  bytes[at + 2] ^= (word >>> 16) & 0xff;
  bytes[at + 3] ^= word >>> 24;
}

/** A direction's 64-byte key (K_2 then K_1, as the key exchange derives it) and next sequence number. */
export interface DirectionKeys {
  key: Uint8Array;
  seqno: number;
}

/**
 * Where a packet lies in the buffer `allocPacket` makes: behind 64 bytes that stay zero up to 32, so
 * one ChaCha20 pass over the buffer yields the Poly1305 key (block 0) and then encrypts the packet
 * body from block 1. The 4-byte length field sits in bytes 60–63, whose keystream output is not used.
 */
const PACKET_AT = 60;
/** Bytes of the buffer before the packet body (block 0 of the keystream). */
const BODY_AT = 64;

/** Seals outgoing packets: ssh2's cipher interface (`allocPacket`, `encrypt`, `free`, `outSeqno`). */
export class ChaChaPolySealer {
  outSeqno: number;
  readonly #onWrite: (data: Buffer) => void;
  readonly #mainKey: Buffer;
  readonly #lengthKey: Uint32Array;
  readonly #poly: Poly1305;
  readonly #iv = Buffer.alloc(16);
  /** The buffer behind the packet `allocPacket` last handed out, reused once that packet is sealed. */
  #scratch = Buffer.alloc(0);
  /** That packet, until `encrypt` seals it. */
  #lent: Buffer | null = null;
  #dead = false;

  constructor(keys: DirectionKeys, onWrite: (data: Buffer) => void, poly: Poly1305) {
    this.outSeqno = keys.seqno;
    this.#onWrite = onWrite;
    this.#mainKey = Buffer.from(keys.key.subarray(0, 32));
    this.#lengthKey = keyWords(keys.key.subarray(32, 64));
    this.#poly = poly;
  }

  free(): void {
    this.#dead = true;
  }

  /**
   * A packet with its length and padding set, for ssh2 to write the payload at offset 5. It lies at
   * `PACKET_AT` in a scratch buffer with room for the tag behind it, which `encrypt` reads in one
   * pass and which the next packet reuses. A packet still unsealed (ssh2 queues some during a
   * re-key) keeps its buffer: the next one gets a new buffer.
   */
  allocPacket(payloadLen: number): Buffer {
    let pktLen = 4 + 1 + payloadLen;
    let padLen = 8 - ((pktLen - 4) & 7);
    if (padLen < 4) padLen += 8;
    pktLen += padLen;
    const size = PACKET_AT + pktLen + TAG;
    if (this.#lent || this.#scratch.length < size) this.#scratch = Buffer.alloc(Math.max(size, 4096));
    const packet = this.#scratch.subarray(PACKET_AT, PACKET_AT + pktLen);
    packet.writeUInt32BE(pktLen - 4, 0);
    packet[4] = padLen;
    randomFillSync(packet, 5 + payloadLen, padLen);
    this.#lent = packet;
    return packet;
  }

  encrypt(packet: Buffer): void {
    if (this.#dead) return;
    let source: Buffer;
    if (packet === this.#lent) {
      source = this.#scratch;
      this.#lent = null;
    } else {
      // A packet made elsewhere (ssh2 before a re-key): laid out the same way in a new buffer.
      source = Buffer.alloc(PACKET_AT + packet.length + TAG);
      source.set(packet, PACKET_AT);
    }
    const bodyLen = packet.length - 4;
    const seqno = this.outSeqno;
    const stream = createCipheriv("chacha20", this.#mainKey, ivFor(this.#iv, seqno));
    // Output: the Poly1305 key, 28 unused bytes, the length field's slot, the body, room for the tag.
    const out = stream.update(source.subarray(0, BODY_AT + bodyLen + TAG));
    stream.final(); // releases the cipher's native state
    out.set(source.subarray(PACKET_AT, BODY_AT), PACKET_AT);
    maskLength(this.#lengthKey, seqno, out, PACKET_AT);
    const end = BODY_AT + bodyLen;
    this.#poly.tag(out, out.subarray(PACKET_AT, BODY_AT), out.subarray(BODY_AT, end), out, end);
    this.outSeqno = (seqno + 1) >>> 0;
    this.#onWrite(out.subarray(PACKET_AT, end + TAG));
  }
}

/** Opens incoming bytes packet by packet: ssh2's decipher interface (`decrypt`, `free`, `inSeqno`). */
export class ChaChaPolyOpener {
  inSeqno: number;
  /** Public and mutable as in ssh2: a re-key re-points it at the key exchange's handler. */
  _onPayload: (payload: Buffer) => unknown;
  readonly #mainKey: Buffer;
  readonly #lengthKey: Uint32Array;
  readonly #poly: Poly1305;
  readonly #iv = Buffer.alloc(16);
  /** The encrypted length field as it arrived, and how much of it did. */
  readonly #lengthBytes = Buffer.alloc(4);
  readonly #lengthPlain = Buffer.alloc(4);
  #lengthPos = 0;
  /** The decrypted packet length (bytes after the length field, tag excluded). */
  #len = 0;
  #packet: Uint8Array | null = null;
  #packetPos = 0;
  /** Where a packet that arrives in pieces is gathered: reused, as it is decrypted into a new buffer. */
  #gather: Uint8Array | null = null;
  readonly #mac = Buffer.alloc(TAG);
  #macPos = 0;
  readonly #expected = Buffer.alloc(TAG);

  constructor(keys: DirectionKeys, onPayload: (payload: Buffer) => unknown, poly: Poly1305) {
    this.inSeqno = keys.seqno;
    this._onPayload = onPayload;
    this.#mainKey = Buffer.from(keys.key.subarray(0, 32));
    this.#lengthKey = keyWords(keys.key.subarray(32, 64));
    this.#poly = poly;
  }

  free(): void {}

  /**
   * Consumes `data[p..dataLen)`, calling `onPayload` for each whole, authenticated packet. As in
   * ssh2, a defined return from `onPayload` stops here and is returned (false: the offset reached).
   */
  decrypt(data: Buffer, p: number, dataLen: number): unknown {
    while (p < dataLen) {
      if (this.#lengthPos < 4) {
        while (this.#lengthPos < 4 && p < dataLen) this.#lengthBytes[this.#lengthPos++] = data[p++];
        if (this.#lengthPos < 4) return;
        this.#lengthPlain.set(this.#lengthBytes);
        maskLength(this.#lengthKey, this.inSeqno, this.#lengthPlain, 0);
        this.#len = this.#lengthPlain.readUInt32BE(0);
        if (this.#len > MAX_PACKET_SIZE || this.#len < 8 || (this.#len & 7) !== 0) {
          throw new Error("Bad packet length");
        }
      }
      if (this.#packetPos < this.#len) {
        if (p >= dataLen) return;
        const nb = Math.min(this.#len - this.#packetPos, dataLen - p);
        const piece = data.subarray(p, p + nb);
        // A packet that arrived whole is used where it lies; otherwise it is gathered.
        if (nb === this.#len) this.#packet = piece;
        else {
          if (!this.#packet) {
            if (!this.#gather || this.#gather.length < this.#len) this.#gather = new Uint8Array(this.#len);
            this.#packet = this.#gather.subarray(0, this.#len);
          }
          this.#packet.set(piece, this.#packetPos);
        }
        p += nb;
        this.#packetPos += nb;
        if (this.#packetPos < this.#len || p >= dataLen) return;
      }
      {
        const nb = Math.min(TAG - this.#macPos, dataLen - p);
        this.#mac.set(data.subarray(p, p + nb), this.#macPos);
        p += nb;
        this.#macPos += nb;
        if (this.#macPos < TAG) return;
      }
      const packet = this.#packet!;
      const stream = createDecipheriv("chacha20", this.#mainKey, ivFor(this.#iv, this.inSeqno));
      let plain: Buffer;
      try {
        const polyKey = stream.update(ZEROS_64);
        this.#poly.tag(polyKey, this.#lengthBytes, packet, this.#expected, 0);
        if (!timingSafeEqual(this.#expected, this.#mac)) throw new Error("Invalid MAC");
        plain = stream.update(packet);
      } finally {
        stream.final(); // releases the cipher's native state, on a bad MAC too
      }
      const payload = plain.subarray(1, plain.length - plain[0]);

      this.inSeqno = (this.inSeqno + 1) >>> 0;
      this.#lengthPos = 0;
      this.#len = 0;
      this.#packet = null;
      this.#packetPos = 0;
      this.#macPos = 0;

      const ret = this._onPayload(payload);
      if (ret !== undefined) return ret === false ? p : ret;
    }
  }
}

/** ssh2's own chacha20-poly1305 objects, as they hold their keys and state (private fields of ssh2 1.17). */
interface Ssh2Sealer {
  outSeqno?: number;
  _onWrite?: (data: Buffer) => void;
  _encKeyMain?: Buffer;
  _encKeyPktLen?: Buffer;
}
interface Ssh2Opener {
  inSeqno?: number;
  _onPayload?: (payload: Buffer) => unknown;
  _decKeyMain?: Buffer;
  _decKeyPktLen?: Buffer;
}

/** ssh2's other ciphers keep one node:crypto cipher for the connection's life (`_cipherInstance`). */
interface Ssh2LongLived {
  free?: () => void;
  _cipherInstance?: { final?: () => unknown };
  _decipherInstance?: { final?: () => unknown };
}

/** Has `free()` of ssh2's cipher or decipher also finalize the node:crypto cipher it kept. */
function finalizeOnFree<T>(cipher: T): T {
  const c = cipher as Ssh2LongLived | null;
  const inner = c?._cipherInstance ?? c?._decipherInstance;
  const free = c?.free;
  if (!c || typeof inner?.final !== "function" || typeof free !== "function") return cipher;
  c.free = function (this: unknown) {
    free.call(this);
    try {
      inner.final!();
    } catch { /* a block cipher with a partial block: its state is released all the same */ }
  };
  return cipher;
}

/** Ours in place of ssh2's sealer, with its keys, sequence number and output; anything else as it is. */
function sealerFor(cipher: unknown, poly: Poly1305): unknown {
  const c = cipher as Ssh2Sealer | null;
  if (c?.constructor?.name !== "ChaChaPolyCipherNative") return finalizeOnFree(cipher);
  if (typeof c.outSeqno !== "number" || !c._onWrite || !c._encKeyMain || !c._encKeyPktLen) return cipher;
  const key = Buffer.concat([c._encKeyMain, c._encKeyPktLen]);
  return new ChaChaPolySealer({ key, seqno: c.outSeqno }, c._onWrite, poly);
}

function openerFor(decipher: unknown, poly: Poly1305): unknown {
  const d = decipher as Ssh2Opener | null;
  if (d?.constructor?.name !== "ChaChaPolyDecipherNative") return finalizeOnFree(decipher);
  if (typeof d.inSeqno !== "number" || !d._onPayload || !d._decKeyMain || !d._decKeyPktLen) return decipher;
  const key = Buffer.concat([d._decKeyMain, d._decKeyPktLen]);
  return new ChaChaPolyOpener({ key, seqno: d.inSeqno }, d._onPayload, poly);
}

/** Makes every assignment of `field` on instances of `proto` store `convert(value)` instead. */
function convertOnAssign(proto: object, field: string, convert: (value: unknown) => unknown): void {
  const slot = Symbol(field);
  Object.defineProperty(proto, field, {
    configurable: true,
    get(this: Record<symbol, unknown>) {
      return this[slot];
    },
    set(this: Record<symbol, unknown>, value: unknown) {
      this[slot] = convert(value);
    },
  });
}

const INSTALLED = Symbol.for("claworc.chachaPoly");

/**
 * Makes ssh2 use our chacha20-poly1305: each time ssh2's key exchange gives a connection (an
 * instance of ssh2's Protocol, whose prototype is `protocolPrototype`) a new chacha20-poly1305
 * cipher or decipher, ours takes its place with the same keys and sequence number. Other ciphers
 * stay ssh2's. Works whenever ssh2 was loaded, for connections made afterwards. Idempotent.
 */
export function installChaChaPoly(protocolPrototype: object, poly: Poly1305): void {
  if (Object.hasOwn(protocolPrototype, INSTALLED)) return;
  Object.defineProperty(protocolPrototype, INSTALLED, { value: true });
  convertOnAssign(protocolPrototype, "_cipher", (c) => sealerFor(c, poly));
  convertOnAssign(protocolPrototype, "_decipher", (d) => openerFor(d, poly));
}
