/**
 * The SSH transport's ceiling on this machine: how fast packet protection (the code every tunnel,
 * SFTP and terminal byte goes through) seals and opens 32 KiB channel packets on one core under Deno,
 * per cipher we offer (ssh2's code, and our chacha20-poly1305 that connections use), next to
 * OpenSSL's speed for the cipher OpenSSH uses. No socket,
 * no peer, no copy to a stream: a transfer can never be faster than this, so it says how much of a
 * throughput gap to OpenSSH is the transport's crypto and how much is everything else.
 */
import { Buffer } from "node:buffer";
import { randomBytes } from "node:crypto";
import sshCrypto from "ssh2/lib/protocol/crypto.js";
import { ChaChaPolyOpener, ChaChaPolySealer } from "../core/ssh/chacha_poly.ts";
import { Poly1305 } from "../core/ssh/poly1305.ts";
import { ssh2Poly1305 } from "../tests/harness/ssh2_poly1305.ts";
import type { BenchRow } from "./bench_ssh.ts";

const MB = 1 << 20;
/** A full channel data packet: type, recipient channel, length, then 32 KiB of data. */
const PAYLOAD = 1 + 4 + 4 + 32 * 1024;

interface CipherInfo {
  keyLen: number;
  ivLen: number;
  authLen: number;
}
interface Sealer {
  allocPacket(payloadLen: number): Buffer;
  encrypt(packet: Buffer): void;
}
interface Opener {
  decrypt(data: Buffer, p: number, dataLen: number): void;
}

/** The MAC negotiated with a cipher that has no tag of its own: ssh2's first default, which sshd accepts. */
const MAC_FOR_PLAIN_CIPHER = "hmac-sha2-256-etm@openssh.com";

/** Keys and the sealing/opening pair for `cipher`, wired as ssh2's key exchange wires them. */
function ssh2Pair(cipher: string, onWrite: (b: Buffer) => void, onPayload: () => void) {
  const info = sshCrypto.CIPHER_INFO[cipher] as CipherInfo;
  const mac = info.authLen ? undefined : sshCrypto.MAC_INFO[MAC_FOR_PLAIN_CIPHER] as { len: number };
  const key = randomBytes(info.keyLen), iv = randomBytes(info.ivLen), macKey = mac ? randomBytes(mac.len) : undefined;
  // Each side gets its own copies: ssh2 advances an AES-GCM nonce in place.
  const side = () => ({ seqno: 0, macInfo: mac, macKey: macKey && Buffer.from(macKey) });
  const sealer = sshCrypto.createCipher({
    outbound: { ...side(), cipherInfo: info, onWrite, cipherKey: Buffer.from(key), cipherIV: Buffer.from(iv) },
  }) as Sealer;
  const opener = sshCrypto.createDecipher({
    inbound: { ...side(), decipherInfo: info, onPayload, decipherKey: Buffer.from(key), decipherIV: Buffer.from(iv) },
  }) as Opener;
  return { sealer, opener };
}

let poly: Poly1305 | undefined;

/** Our chacha20-poly1305 (core/ssh/chacha_poly.ts), the one connections use. */
function ourPair(onWrite: (b: Buffer) => void, onPayload: () => void) {
  poly ??= new Poly1305();
  const key = randomBytes(64);
  return {
    sealer: new ChaChaPolySealer({ key, seqno: 0 }, onWrite, poly),
    opener: new ChaChaPolyOpener({ key, seqno: 0 }, onPayload, poly),
  };
}

/** MB/s sealing `packets` packets (output dropped), then opening as many, on this thread. */
async function measure(cipher: string, ours: boolean, packets: number): Promise<{ seal: number; open: number }> {
  await sshCrypto.init;
  const make = (onWrite: (b: Buffer) => void, onPayload: () => void) =>
    ours ? ourPair(onWrite, onPayload) : ssh2Pair(cipher, onWrite, onPayload);
  const data = randomBytes(32 * 1024);
  const sealAll = (sealer: Sealer) => {
    for (let i = 0; i < packets; i++) {
      const packet = sealer.allocPacket(PAYLOAD);
      data.copy(packet, 5 + 9);
      sealer.encrypt(packet);
    }
  };
  // Sealing alone: what leaves is dropped, as a socket would take it.
  const { sealer: timedSealer } = make(() => {}, () => {});
  const t0 = performance.now();
  sealAll(timedSealer);
  const sealMs = performance.now() - t0;
  // Opening alone: the same number of packets sealed beforehand by the matching sealer.
  const wire: Buffer[] = [];
  let opened = 0;
  const { sealer, opener } = make((b) => void wire.push(b), () => void opened++);
  sealAll(sealer);
  const stream = Buffer.concat(wire);
  wire.length = 0;
  const t1 = performance.now();
  for (let at = 0; at < stream.length; at += 256 * 1024) {
    opener.decrypt(stream, at, Math.min(stream.length, at + 256 * 1024));
  }
  const openMs = performance.now() - t1;
  if (opened !== packets) throw new Error(`${cipher}: ${opened} of ${packets} packets opened`);
  const mb = packets * 32 * 1024 / MB;
  return { seal: mb / (sealMs / 1000), open: mb / (openMs / 1000) };
}

/** OpenSSL's MB/s for an EVP cipher on 32 KiB blocks (what OpenSSH's libcrypto does), or null without openssl. */
async function opensslSpeed(evp: string): Promise<number | null> {
  const out = await new Deno.Command("openssl", {
    args: ["speed", "-evp", evp, "-bytes", "32768", "-seconds", "1"],
    stdout: "piped",
    stderr: "null",
  }).output().catch(() => null);
  // The last line is "<name>  <k bytes/s>k".
  const m = out?.success ? /([\d.]+)k\s*$/.exec(new TextDecoder().decode(out.stdout).trim()) : null;
  return m ? Number(m[1]) * 1000 / MB : null;
}

/**
 * One row per cipher we offer (ssh2's code), plus ours for chacha20-poly1305: seal/open speed on one
 * core, next to OpenSSL's for the cipher the OpenSSH peer uses.
 */
export async function cryptoCeilingRows(ciphers: readonly string[], packets = 3000): Promise<BenchRow[]> {
  const [gcm, chacha] = [await opensslSpeed("aes-128-gcm"), await opensslSpeed("chacha20-poly1305")];
  const rows: BenchRow[] = [];
  const variants = ciphers.filter((c) => c in sshCrypto.CIPHER_INFO).flatMap((cipher) =>
    cipher.startsWith("chacha20") ? [{ cipher, ours: true }, { cipher, ours: false }] : [{ cipher, ours: false }]
  );
  // Two rounds over all variants, best of each, so neither the JIT's warm-up nor a collection that
  // happens to fall in one measurement decides the order.
  const best = new Map<number, { seal: number; open: number }>();
  for (let round = 0; round < 2; round++) {
    for (const [i, { cipher, ours }] of variants.entries()) {
      const r = await measure(cipher, ours, round === 0 ? Math.min(packets, 1000) : packets);
      const b = best.get(i);
      best.set(i, { seal: Math.max(b?.seal ?? 0, r.seal), open: Math.max(b?.open ?? 0, r.open) });
    }
  }
  for (const [i, { cipher, ours }] of variants.entries()) {
    const r = best.get(i)!;
    const peer = cipher.startsWith("chacha20") ? chacha : gcm;
    const peerName = cipher.startsWith("chacha20") ? "chacha20-poly1305" : "aes-128-gcm";
    const mac = (sshCrypto.CIPHER_INFO[cipher] as CipherInfo).authLen ? "" : ` + ${MAC_FOR_PLAIN_CIPHER}`;
    rows.push({
      metric: `Transport ceiling, sealing / opening 32 KiB packets on one core, no I/O: ${cipher}${mac} (${
        ours ? "ours, in use" : "ssh2's code"
      })`,
      value: `${r.seal.toFixed(0)} / ${r.open.toFixed(0)} MB/s`,
      peer: peer === null ? "openssl not found" : `${peer.toFixed(0)} MB/s openssl ${peerName}`,
      ratio: peer === null ? undefined : `${(r.seal / peer).toFixed(2)}×`,
      goal: "reported (bounds the tunnel and SFTP rows)",
    });
  }
  rows.push(await poly1305Row());
  return rows;
}

/** Our Poly1305 (core/ssh/poly1305.ts) against ssh2's on 32 KiB messages, best of three rounds each. */
async function poly1305Row(messages = 3000): Promise<BenchRow> {
  const ours = new Poly1305(), theirs = await ssh2Poly1305();
  const key = randomBytes(32), message = randomBytes(PAYLOAD), none = new Uint8Array(0), tag = new Uint8Array(16);
  const speed = (run: () => void) => {
    const t0 = performance.now();
    for (let i = 0; i < messages; i++) run();
    return messages * PAYLOAD / MB / ((performance.now() - t0) / 1000);
  };
  let best = { ours: 0, theirs: 0 };
  for (let round = 0; round < 3; round++) {
    best = {
      ours: Math.max(best.ours, speed(() => ours.tag(key, none, message, tag, 0))),
      theirs: Math.max(best.theirs, speed(() => theirs(key, message))),
    };
  }
  return {
    metric: "Poly1305 of 32 KiB on one core: ours (WebAssembly, two blocks at a time) vs ssh2's compiled C",
    value: `${best.ours.toFixed(0)} MB/s`,
    peer: `${best.theirs.toFixed(0)} MB/s ssh2`,
    ratio: `${(best.ours / best.theirs).toFixed(2)}×`,
    goal: "reported (a third of the sealing work)",
  };
}
