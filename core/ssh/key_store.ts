import { join } from "node:path";
import { generateKeyPair, type KeyPair } from "./openssh_key.ts";

export { generateKeyPair, type KeyPair };
import { fingerprint } from "./public_key.ts";

export const PRIVATE_KEY_FILE = "ssh_key";
export const PUBLIC_KEY_FILE = "ssh_key.pub";
/** The pair a rotation replaced, kept (and still offered) until every instance has the new one. */
export const PREVIOUS_PRIVATE_KEY_FILE = "ssh_key.old";
export const PREVIOUS_PUBLIC_KEY_FILE = "ssh_key.old.pub";

async function readPair(dataPath: string, privFile: string, pubFile: string): Promise<KeyPair | null> {
  try {
    return {
      privateKey: await Deno.readTextFile(join(dataPath, privFile)),
      publicKey: (await Deno.readTextFile(join(dataPath, pubFile))).trim(),
    };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/**
 * The control plane's global SSH identity: files in the data folder (private 0600, public 0644), never
 * the database. During a rotation that has not reached every instance, the previous pair is kept in
 * `ssh_key.old` and offered after the current one, so no instance is locked out.
 */
export class SshKeyStore {
  private constructor(private readonly dataPath: string, private pair: KeyPair, private old: KeyPair | null) {}

  /** Loads the pair (and a pending previous one), or generates and writes a pair on first start. */
  static async open(dataPath: string): Promise<SshKeyStore> {
    const previous = await readPair(dataPath, PREVIOUS_PRIVATE_KEY_FILE, PREVIOUS_PUBLIC_KEY_FILE);
    const current = await readPair(dataPath, PRIVATE_KEY_FILE, PUBLIC_KEY_FILE);
    if (current) return new SshKeyStore(dataPath, current, previous);
    const store = new SshKeyStore(dataPath, generateKeyPair(), null);
    await store.write(store.pair, PRIVATE_KEY_FILE, PUBLIC_KEY_FILE);
    return store;
  }

  /** The pair a rotation is still moving instances away from, or null. */
  get previous(): KeyPair | null {
    return this.old;
  }

  /** Private keys to offer, current first. */
  identities(): string[] {
    return this.old ? [this.pair.privateKey, this.old.privateKey] : [this.pair.privateKey];
  }

  get privateKey(): string {
    return this.pair.privateKey;
  }

  /** The public key as an authorized_keys line without options. */
  get publicKey(): string {
    return this.pair.publicKey;
  }

  fingerprint(): string {
    return fingerprint(this.pair.publicKey);
  }

  /** Makes `next` current and keeps the current pair as the previous one (both written to disk first). */
  async rotateTo(next: KeyPair): Promise<void> {
    await this.write(this.pair, PREVIOUS_PRIVATE_KEY_FILE, PREVIOUS_PUBLIC_KEY_FILE);
    await this.write(next, PRIVATE_KEY_FILE, PUBLIC_KEY_FILE);
    this.old = this.pair;
    this.pair = next;
  }

  /** Forgets the previous pair once every instance has the current one. */
  async dropPrevious(): Promise<void> {
    for (const f of [PREVIOUS_PRIVATE_KEY_FILE, PREVIOUS_PUBLIC_KEY_FILE]) {
      await Deno.remove(join(this.dataPath, f)).catch((e) => {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      });
    }
    this.old = null;
  }

  private async write(pair: KeyPair, privFile: string, pubFile: string): Promise<void> {
    const priv = join(this.dataPath, privFile);
    const tmp = `${priv}.tmp`;
    await Deno.writeTextFile(tmp, pair.privateKey, { mode: 0o600 });
    await Deno.chmod(tmp, 0o600);
    await Deno.rename(tmp, priv);
    await Deno.writeTextFile(join(this.dataPath, pubFile), pair.publicKey + "\n", { mode: 0o644 });
  }
}
