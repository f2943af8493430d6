import assert from "node:assert/strict";
import { Fernet, FernetError } from "../../../core/secrets/fernet.ts";

interface Vector {
  desc?: string;
  token: string;
  now: string;
  iv?: number[];
  src?: string;
  ttl_sec?: number;
  secret: string;
}

async function loadVectors(name: string): Promise<Vector[]> {
  const url = new URL(`../../fixtures/fernet/${name}.json`, import.meta.url);
  return JSON.parse(await Deno.readTextFile(url)) as Vector[];
}

function isFernetError(err: unknown): boolean {
  return err instanceof FernetError && err.name === "FernetError";
}

Deno.test("fernet: generate vectors produce the expected tokens", async () => {
  const vectors = await loadVectors("generate");
  assert.ok(vectors.length > 0);
  for (const v of vectors) {
    const f = await Fernet.fromKey(v.secret);
    const token = await f.encrypt(v.src!, {
      now: new Date(v.now),
      iv: new Uint8Array(v.iv!),
    });
    assert.equal(token, v.token);
  }
});

Deno.test("fernet: verify vectors decrypt to src", async () => {
  const vectors = await loadVectors("verify");
  assert.ok(vectors.length > 0);
  for (const v of vectors) {
    const f = await Fernet.fromKey(v.secret);
    const opts = { ttlSeconds: v.ttl_sec, now: new Date(v.now) };
    assert.equal(await f.decryptText(v.token, opts), v.src);
    // Tokens without base64 padding are accepted too.
    const unpadded = v.token.replace(/=+$/, "");
    assert.equal(await f.decryptText(unpadded, opts), v.src);
  }
});

Deno.test("fernet: all 8 invalid vectors are rejected", async () => {
  const vectors = await loadVectors("invalid");
  assert.equal(vectors.length, 8);
  for (const v of vectors) {
    const f = await Fernet.fromKey(v.secret);
    await assert.rejects(
      f.decrypt(v.token, { ttlSeconds: v.ttl_sec, now: new Date(v.now) }),
      isFernetError,
      v.desc,
    );
  }
});

Deno.test("fernet: round trip with a generated key", async () => {
  const key = Fernet.generateKey();
  assert.match(key, /^[A-Za-z0-9_-]{43}=$/);
  const f = await Fernet.fromKey(key);
  const bytes = new Uint8Array([0, 1, 2, 250, 255]);
  assert.deepEqual(await f.decrypt(await f.encrypt(bytes)), bytes);
  const text = "sk-secret ✓ ключ";
  assert.equal(
    await f.decryptText(await f.encrypt(text), { ttlSeconds: 60 }),
    text,
  );
  assert.equal(await f.decryptText(await f.encrypt("")), "");
});

Deno.test("fernet: tampering one byte fails", async () => {
  const f = await Fernet.fromKey(Fernet.generateKey());
  const token = await f.encrypt("payload");
  const raw = atob(token.replace(/-/g, "+").replace(/_/g, "/"));
  for (const index of [0, 5, 12, 30, raw.length - 1]) {
    const chars = raw.split("");
    chars[index] = String.fromCharCode(raw.charCodeAt(index) ^ 0x01);
    const tampered = btoa(chars.join("")).replace(/\+/g, "-").replace(
      /\//g,
      "_",
    );
    await assert.rejects(f.decrypt(tampered), isFernetError);
  }
});

Deno.test("fernet: a wrong key fails", async () => {
  const a = await Fernet.fromKey(Fernet.generateKey());
  const b = await Fernet.fromKey(Fernet.generateKey());
  await assert.rejects(b.decrypt(await a.encrypt("secret")), isFernetError);
});

Deno.test("fernet: expiry and clock skew without vectors", async () => {
  const f = await Fernet.fromKey(Fernet.generateKey());
  const now = new Date("2024-01-01T00:00:00Z");
  const token = await f.encrypt("x", { now });
  const later = new Date(now.getTime() + 120_000);
  assert.equal(await f.decryptText(token, { now: later }), "x");
  await assert.rejects(
    f.decrypt(token, { now: later, ttlSeconds: 60 }),
    isFernetError,
  );
  const earlier = new Date(now.getTime() - 61_000);
  await assert.rejects(f.decrypt(token, { now: earlier }), isFernetError);
});

Deno.test("fernet: fromKey rejects a 31-byte key", async () => {
  const short = btoa(String.fromCharCode(...new Uint8Array(31).fill(7)));
  await assert.rejects(Fernet.fromKey(short), TypeError);
  await assert.rejects(Fernet.fromKey("not base64 !!"), TypeError);
  const standard = btoa(String.fromCharCode(...new Uint8Array(32).fill(0xfb)));
  assert.match(standard, /[+/]/);
  await Fernet.fromKey(standard);
});
