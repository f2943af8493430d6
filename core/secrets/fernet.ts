// Fernet (https://github.com/fernet/spec): AES-128-CBC + HMAC-SHA256 on WebCrypto.

const VERSION = 0x80;
const MAX_CLOCK_SKEW_SECONDS = 60;
// version (1) + timestamp (8) + iv (16) + at least one block (16) + hmac (32)
const MIN_TOKEN_BYTES = 1 + 8 + 16 + 16 + 32;
const B64_CHARS = /^[A-Za-z0-9+/]*$/;

/** Raised for any token that fails verification (bad base64, bad version, too short, bad MAC, bad padding, expired, far-future). */
export class FernetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FernetError";
  }
}

/** Injectable clock and IV for encryption (used by the spec vectors). */
export interface EncryptOptions {
  now?: Date;
  iv?: Uint8Array;
}

/** Optional maximum token age and injectable clock for decryption. */
export interface DecryptOptions {
  ttlSeconds?: number;
  now?: Date;
}

/** Strict decoder for url-safe or standard base64, padding optional; null if malformed. */
function decodeBase64(text: string): Uint8Array<ArrayBuffer> | null {
  const body = text.replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, "");
  if (!B64_CHARS.test(body) || body.length % 4 === 1) return null;
  try {
    const binary = atob(body + "=".repeat((4 - (body.length % 4)) % 4));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

function encodeBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_");
}

const unixSeconds = (d: Date): number => Math.floor(d.getTime() / 1000);

/** Fernet encryptor/decryptor bound to one 32-byte key. */
export class Fernet {
  private constructor(
    private readonly signingKey: CryptoKey,
    private readonly encryptionKey: CryptoKey,
  ) {}

  /** A new random 32-byte key, url-safe base64 (with padding, like the spec). */
  static generateKey(): string {
    return encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)));
  }

  /** Throws TypeError if the key is not 32 bytes of url-safe (or standard) base64. */
  static async fromKey(key: string): Promise<Fernet> {
    const raw = decodeBase64(key.trim());
    if (raw === null || raw.length !== 32) {
      throw new TypeError("Fernet key must be 32 bytes of base64");
    }
    const hmac = { name: "HMAC", hash: "SHA-256" };
    const importRaw = (
      bytes: Uint8Array<ArrayBuffer>,
      alg: Algorithm,
      use: KeyUsage[],
    ) => crypto.subtle.importKey("raw", bytes, alg, false, use);
    return new Fernet(
      await importRaw(raw.slice(0, 16), hmac, ["sign", "verify"]),
      await importRaw(raw.slice(16), { name: "AES-CBC" }, [
        "encrypt",
        "decrypt",
      ]),
    );
  }

  /** Encrypts bytes or UTF-8 text into a url-safe base64 Fernet token. */
  async encrypt(
    plaintext: Uint8Array | string,
    options: EncryptOptions = {},
  ): Promise<string> {
    const data = typeof plaintext === "string" ? new TextEncoder().encode(plaintext) : new Uint8Array(plaintext);
    const iv = options.iv ? new Uint8Array(options.iv) : crypto.getRandomValues(new Uint8Array(16));
    if (iv.length !== 16) throw new TypeError("Fernet IV must be 16 bytes");
    const alg = { name: "AES-CBC", iv };
    const ciphertext = new Uint8Array(
      await crypto.subtle.encrypt(alg, this.encryptionKey, data),
    );
    const token = new Uint8Array(25 + ciphertext.length + 32);
    const seconds = BigInt(unixSeconds(options.now ?? new Date()));
    token[0] = VERSION;
    new DataView(token.buffer).setBigUint64(1, seconds);
    token.set(iv, 9);
    token.set(ciphertext, 25);
    const body = token.subarray(0, token.length - 32);
    const mac = await crypto.subtle.sign("HMAC", this.signingKey, body);
    token.set(new Uint8Array(mac), body.length);
    return encodeBase64Url(token);
  }

  /** Verifies and decrypts a token to bytes; throws FernetError if invalid. */
  async decrypt(
    token: string,
    options: DecryptOptions = {},
  ): Promise<Uint8Array> {
    const raw = decodeBase64(token);
    if (raw === null) throw new FernetError("invalid base64");
    if (raw.length < MIN_TOKEN_BYTES) throw new FernetError("token too short");
    if (raw[0] !== VERSION) throw new FernetError("unsupported version");
    const body = raw.subarray(0, raw.length - 32);
    const mac = raw.subarray(raw.length - 32);
    if (!(await crypto.subtle.verify("HMAC", this.signingKey, mac, body))) {
      throw new FernetError("invalid MAC");
    }
    const timestamp = Number(new DataView(raw.buffer).getBigUint64(1));
    const now = unixSeconds(options.now ?? new Date());
    if (timestamp > now + MAX_CLOCK_SKEW_SECONDS) {
      throw new FernetError("token timestamp is too far in the future");
    }
    const ttl = options.ttlSeconds;
    if (ttl !== undefined && timestamp + ttl < now) {
      throw new FernetError("token expired");
    }
    const ciphertext = body.subarray(25);
    if (ciphertext.length % 16 !== 0) {
      throw new FernetError("ciphertext is not a multiple of the block size");
    }
    const alg = { name: "AES-CBC", iv: body.subarray(9, 25) };
    try {
      const key = this.encryptionKey;
      return new Uint8Array(await crypto.subtle.decrypt(alg, key, ciphertext));
    } catch {
      throw new FernetError("invalid padding");
    }
  }

  /** Verifies and decrypts a token to UTF-8 text; throws FernetError if invalid. */
  async decryptText(
    token: string,
    options: DecryptOptions = {},
  ): Promise<string> {
    const bytes = await this.decrypt(token, options);
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      throw new FernetError("plaintext is not valid UTF-8");
    }
  }
}
