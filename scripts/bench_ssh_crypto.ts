/**
 * The SSH transport's ceiling on this machine: how fast ssh2's own packet protection (the code every
 * tunnel, SFTP and terminal byte goes through) seals and opens 32 KiB channel packets on one core
 * under Deno, per cipher we offer, next to OpenSSL's speed for the cipher OpenSSH uses. No socket,
 * no peer, no copy to a stream: a transfer can never be faster than this, so it says how much of a
 * throughput gap to OpenSSH is the transport's crypto and how much is everything else.
 */
import { Buffer } from "node:buffer";
import { randomBytes } from "node:crypto";
import sshCrypto from "ssh2/lib/protocol/crypto.js";
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
function pair(cipher: string, onWrite: (b: Buffer) => void, onPayload: () => void) {
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

/** MB/s of `packets` packets sealed, then the same packets opened, both on this thread. */
async function measure(cipher: string, packets: number): Promise<{ seal: number; open: number }> {
  await sshCrypto.init;
  const wire: Buffer[] = [];
  let opened = 0;
  const { sealer, opener } = pair(cipher, (b) => wire.push(b), () => void opened++);
  const data = randomBytes(32 * 1024);
  const t0 = performance.now();
  for (let i = 0; i < packets; i++) {
    const packet = sealer.allocPacket(PAYLOAD);
    data.copy(packet, 5 + 9);
    sealer.encrypt(packet);
  }
  const sealMs = performance.now() - t0;
  const stream = Buffer.concat(wire);
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

/** One row per cipher we offer: ssh2's seal/open speed on one core, OpenSSL's for the peer's cipher. */
export async function cryptoCeilingRows(ciphers: readonly string[], packets = 3000): Promise<BenchRow[]> {
  const [gcm, chacha] = [await opensslSpeed("aes-128-gcm"), await opensslSpeed("chacha20-poly1305")];
  const rows: BenchRow[] = [];
  for (const cipher of ciphers) {
    if (!(cipher in sshCrypto.CIPHER_INFO)) continue;
    await measure(cipher, 200); // warm-up (JIT)
    const r = await measure(cipher, packets);
    const peer = cipher.startsWith("chacha20") ? chacha : gcm;
    const peerName = cipher.startsWith("chacha20") ? "chacha20-poly1305" : "aes-128-gcm";
    rows.push({
      metric: `Transport ceiling, ssh2 sealing / opening 32 KiB packets on one core, no I/O: ${cipher}${
        (sshCrypto.CIPHER_INFO[cipher] as CipherInfo).authLen ? "" : ` + ${MAC_FOR_PLAIN_CIPHER}`
      }`,
      value: `${r.seal.toFixed(0)} / ${r.open.toFixed(0)} MB/s`,
      peer: peer === null ? "openssl not found" : `${peer.toFixed(0)} MB/s openssl ${peerName}`,
      ratio: peer === null ? undefined : `${(r.seal / peer).toFixed(2)}×`,
      goal: "reported (bounds the tunnel and SFTP rows)",
    });
  }
  return rows;
}
