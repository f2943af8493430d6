import assert from "node:assert/strict";
import { generateKeyPair, SshKeyStore } from "../../../core/ssh/key_store.ts";
import { loadSsh2 } from "../../../core/ssh/ssh2.ts";
import { fingerprint, keyBlob } from "../../../core/ssh/public_key.ts";

Deno.test("every generated pair loads in ssh2 and its public half matches the private one", async () => {
  const { utils } = await loadSsh2();
  for (let i = 0; i < 1500; i++) {
    const k = generateKeyPair(`key-${i}`);
    const priv = utils.parseKey(k.privateKey);
    const pub = utils.parseKey(k.publicKey);
    assert.ok(!(priv instanceof Error) && !(pub instanceof Error), k.privateKey);
    assert.equal(keyBlob(k.publicKey).length, 51, k.publicKey);
    assert.ok(priv.getPublicSSH().equals(pub.getPublicSSH()), "the private key holds the same public key");
    assert.equal(priv.comment, `key-${i}`);
    const data = Buffer.from(`signed ${i}`);
    assert.ok(pub.verify(data, priv.sign(data) as Buffer), "a signature of the private key verifies");
  }
});

Deno.test("OpenSSH reads the generated private key and derives the same public key", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (let i = 0; i < 5; i++) {
      const k = generateKeyPair("openssh-check");
      await Deno.writeTextFile(`${dir}/k`, k.privateKey, { mode: 0o600 });
      const out = await new Deno.Command("ssh-keygen", { args: ["-y", "-f", `${dir}/k`], stderr: "piped" }).output();
      assert.ok(out.success, new TextDecoder().decode(out.stderr));
      const derived = new TextDecoder().decode(out.stdout).trim().split(" ").slice(0, 2).join(" ");
      assert.equal(derived, k.publicKey.split(" ").slice(0, 2).join(" "));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
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
