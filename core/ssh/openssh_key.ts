import { generateKeyPairSync, randomBytes } from "node:crypto";

/** A key pair in OpenSSH format. */
export interface KeyPair {
  privateKey: string;
  publicKey: string;
}

/** SSH wire encoding: a uint32 length, then the bytes. */
function sshString(data: Uint8Array | string): Buffer {
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : Buffer.from(data);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

/**
 * A new ED25519 pair from node:crypto, written in OpenSSH's own formats: the private key as an
 * unencrypted `openssh-key-v1` block (what `ssh-keygen -t ed25519 -N ''` writes, loaded by OpenSSH and
 * ssh2 alike) and the public key as an authorized_keys line. Written here rather than by ssh2, so the
 * key store does not load ssh2 (about 25 MB resident) before the first connection is needed.
 */
export function generateKeyPair(comment = "claworc"): KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const pub = Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url");
  const seed = Buffer.from(privateKey.export({ format: "jwk" }).d!, "base64url");
  const blob = Buffer.concat([sshString("ssh-ed25519"), sshString(pub)]);
  const check = randomBytes(4);
  let secret = Buffer.concat([
    check,
    check,
    sshString("ssh-ed25519"),
    sshString(pub),
    sshString(Buffer.concat([seed, pub])),
    sshString(comment),
  ]);
  // Padded to the cipher block size (8 for "none") with 1, 2, 3, ...
  const pad = (8 - (secret.length % 8)) % 8;
  secret = Buffer.concat([secret, Buffer.from(Array.from({ length: pad }, (_, i) => i + 1))]);
  const body = Buffer.concat([
    Buffer.from("openssh-key-v1\0", "latin1"),
    sshString("none"),
    sshString("none"),
    sshString(""),
    Buffer.from([0, 0, 0, 1]),
    sshString(blob),
    sshString(secret),
  ]);
  const lines = body.toString("base64").match(/.{1,70}/g)!;
  return {
    privateKey: `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join("\n")}\n-----END OPENSSH PRIVATE KEY-----\n`,
    publicKey: `ssh-ed25519 ${blob.toString("base64")} ${comment}`,
  };
}
