import { createHash } from "node:crypto";

/** The key blob of an OpenSSH public key line (`ssh-ed25519 AAAA... comment`). */
export function keyBlob(line: string): Buffer {
  const [, b64] = line.trim().split(/\s+/);
  if (!b64) throw new TypeError("Not an OpenSSH public key line.");
  return Buffer.from(b64, "base64");
}

/** `type base64` for a raw key blob, as ssh2 hands it to a host verifier. */
export function blobToLine(blob: Uint8Array): string {
  const buf = Buffer.from(blob);
  const len = buf.readUInt32BE(0);
  return `${buf.subarray(4, 4 + len).toString("latin1")} ${buf.toString("base64")}`;
}

/** OpenSSH's `SHA256:...` fingerprint of a public key line. */
export function fingerprint(line: string): string {
  return "SHA256:" + createHash("sha256").update(keyBlob(line)).digest("base64").replace(/=+$/, "");
}

/** True when two public key lines (or blobs) are the same key, ignoring comments. */
export function sameKey(a: string, b: string): boolean {
  return keyBlob(a).equals(keyBlob(b));
}
