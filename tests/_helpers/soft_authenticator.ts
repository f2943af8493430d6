/**
 * A software WebAuthn authenticator for API tests (the browser tests use Chromium's virtual one):
 * ES256 keys from WebCrypto, "none" attestation, resident credentials, a signature counter the test
 * can rewind. It produces exactly what @simplewebauthn/browser would send.
 */

type Json = Record<string, unknown>;

const b64u = (b: Uint8Array) => Buffer.from(b).toString("base64url");
const fromB64u = (s: string) => new Uint8Array(Buffer.from(s, "base64url"));
const utf8 = (s: string) => new TextEncoder().encode(s);
const sha256 = async (b: Uint8Array) => new Uint8Array(await crypto.subtle.digest("SHA-256", b as BufferSource));

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, (at += p.length) - p.length);
  return out;
}

/** The CBOR subset WebAuthn needs: integers, byte and text strings, maps. */
function cbor(value: unknown): Uint8Array {
  const head = (major: number, n: number) => {
    if (n < 24) return new Uint8Array([major << 5 | n]);
    if (n < 256) return new Uint8Array([major << 5 | 24, n]);
    if (n < 65536) return new Uint8Array([major << 5 | 25, n >> 8, n & 255]);
    return new Uint8Array([major << 5 | 26, n >>> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255]);
  };
  if (typeof value === "number") return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (value instanceof Uint8Array) return concat(head(2, value.length), value);
  if (typeof value === "string") return concat(head(3, utf8(value).length), utf8(value));
  if (value instanceof Map) {
    return concat(head(5, value.size), ...[...value].flatMap(([k, v]) => [cbor(k), cbor(v)]));
  }
  throw new Error(`cbor: unsupported ${typeof value}`);
}

/** WebCrypto's ECDSA signature is r||s; WebAuthn wants ASN.1 DER. */
function derSignature(raw: Uint8Array): Uint8Array {
  const int = (b: Uint8Array) => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    const v = b.subarray(i);
    return v[0] & 0x80 ? concat(new Uint8Array([0]), v) : v;
  };
  const r = int(raw.subarray(0, 32)), s = int(raw.subarray(32));
  const body = concat(new Uint8Array([2, r.length]), r, new Uint8Array([2, s.length]), s);
  return concat(new Uint8Array([0x30, body.length]), body);
}

export interface SoftCredential {
  id: string;
  rpId: string;
  userHandle: string;
  keys: CryptoKeyPair;
  counter: number;
}

export class SoftAuthenticator {
  readonly credentials: SoftCredential[] = [];

  constructor(public origin: string) {}

  /** Answers registration options (as the browser's `startRegistration` would). */
  async create(options: Json): Promise<Json> {
    const rp = options.rp as { id: string };
    const user = options.user as { id: string };
    const keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
    const jwk = await crypto.subtle.exportKey("jwk", keys.publicKey);
    const id = crypto.getRandomValues(new Uint8Array(16));
    const cred: SoftCredential = { id: b64u(id), rpId: rp.id, userHandle: user.id, keys, counter: 0 };
    const cose = cbor(
      new Map<number, unknown>([[1, 2], [3, -7], [-1, 1], [-2, fromB64u(jwk.x!)], [-3, fromB64u(jwk.y!)]]),
    );
    const authData = concat(
      await sha256(utf8(rp.id)),
      new Uint8Array([0x45]), // user present, user verified, attested credential data
      new Uint8Array(4),
      new Uint8Array(16), // AAGUID
      new Uint8Array([0, id.length]),
      id,
      cose,
    );
    const clientData = {
      type: "webauthn.create",
      challenge: options.challenge,
      origin: this.origin,
      crossOrigin: false,
    };
    this.credentials.push(cred);
    return {
      id: cred.id,
      rawId: cred.id,
      type: "public-key",
      clientExtensionResults: {},
      response: {
        clientDataJSON: b64u(utf8(JSON.stringify(clientData))),
        attestationObject: b64u(
          cbor(new Map<string, unknown>([["fmt", "none"], ["attStmt", new Map()], ["authData", authData]])),
        ),
        transports: ["internal"],
      },
    };
  }

  /** Answers sign-in options with the first matching credential (or `pick`). */
  async get(options: Json, pick?: SoftCredential): Promise<Json> {
    const allow = (options.allowCredentials as { id: string }[] | undefined) ?? [];
    const cred = pick ??
      this.credentials.find((c) => c.rpId === options.rpId && (allow.length === 0 || allow.some((a) => a.id === c.id)));
    if (!cred) throw new Error("no matching credential");
    cred.counter++;
    const authData = concat(
      await sha256(utf8(cred.rpId)),
      new Uint8Array([0x05]), // user present, user verified
      new Uint8Array([cred.counter >>> 24, (cred.counter >> 16) & 255, (cred.counter >> 8) & 255, cred.counter & 255]),
    );
    const clientDataJSON = utf8(
      JSON.stringify({ type: "webauthn.get", challenge: options.challenge, origin: this.origin, crossOrigin: false }),
    );
    const signed = concat(authData, await sha256(clientDataJSON));
    const raw = new Uint8Array(
      await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, cred.keys.privateKey, signed as BufferSource),
    );
    return {
      id: cred.id,
      rawId: cred.id,
      type: "public-key",
      clientExtensionResults: {},
      response: {
        clientDataJSON: b64u(clientDataJSON),
        authenticatorData: b64u(authData),
        signature: b64u(derSignature(raw)),
        userHandle: cred.userHandle,
      },
    };
  }
}
