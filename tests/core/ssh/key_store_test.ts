import assert from "node:assert/strict";
import { generateKeyPair, SshKeyStore } from "../../../core/ssh/key_store.ts";
import { utils } from "../../../core/ssh/ssh2.ts";
import { fingerprint, keyBlob } from "../../../core/ssh/public_key.ts";

Deno.test("every generated pair loads (ssh2 under Deno makes a malformed one about 1 in 500)", () => {
  for (let i = 0; i < 1500; i++) {
    const k = generateKeyPair();
    assert.ok(!(utils.parseKey(k.privateKey) instanceof Error), k.privateKey);
    assert.equal(keyBlob(k.publicKey).length, 51, k.publicKey);
  }
});

Deno.test("the key store writes 0600/0644 files, reloads them, and keeps the previous pair until dropped", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const store = await SshKeyStore.open(dir);
    assert.equal((await Deno.stat(`${dir}/ssh_key`)).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(`${dir}/ssh_key.pub`)).mode! & 0o777, 0o644);
    assert.equal((await SshKeyStore.open(dir)).fingerprint(), store.fingerprint());
    assert.match(store.fingerprint(), /^SHA256:[A-Za-z0-9+/]{43}$/);
    const first = store.publicKey;
    const next = generateKeyPair();
    await store.rotateTo(next);
    assert.equal(store.publicKey, next.publicKey);
    assert.equal(store.previous?.publicKey, first);
    assert.equal(store.identities().length, 2);
    const reloaded = await SshKeyStore.open(dir);
    assert.equal(reloaded.previous?.publicKey, first);
    await store.dropPrevious();
    assert.equal(store.previous, null);
    assert.equal((await SshKeyStore.open(dir)).previous, null);
    assert.equal(fingerprint(store.publicKey), store.fingerprint());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
