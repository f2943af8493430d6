import { join } from "node:path";
import { utils } from "./ssh2.ts";
import { fingerprint } from "./public_key.ts";

export const PRIVATE_KEY_FILE = "ssh_key";
export const PUBLIC_KEY_FILE = "ssh_key.pub";

/** A key pair in OpenSSH format. */
export interface KeyPair {
  privateKey: string;
  publicKey: string;
}

/** A new ED25519 pair (OpenSSH format; ssh2 rejects node:crypto's PKCS8 PEM). */
export function generateKeyPair(comment = "claworc"): KeyPair {
  const kp = utils.generateKeyPairSync("ed25519", { comment });
  return { privateKey: kp.private, publicKey: kp.public.trim() };
}

/**
 * The control plane's global SSH identity: files in the data folder (private 0600, public 0644), never
 * the database. Rotation swaps the pair in place; connections made earlier keep working.
 */
export class SshKeyStore {
  private constructor(private readonly dataPath: string, private pair: KeyPair) {}

  /** Loads the pair, or generates and writes it on first start. */
  static async open(dataPath: string): Promise<SshKeyStore> {
    const priv = join(dataPath, PRIVATE_KEY_FILE);
    const pub = join(dataPath, PUBLIC_KEY_FILE);
    try {
      return new SshKeyStore(dataPath, {
        privateKey: await Deno.readTextFile(priv),
        publicKey: (await Deno.readTextFile(pub)).trim(),
      });
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    const store = new SshKeyStore(dataPath, generateKeyPair());
    await store.write(store.pair);
    return store;
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

  /** Writes `pair` to the key files and makes it current. */
  async replace(pair: KeyPair): Promise<void> {
    await this.write(pair);
    this.pair = pair;
  }

  private async write(pair: KeyPair): Promise<void> {
    const priv = join(this.dataPath, PRIVATE_KEY_FILE);
    const tmp = `${priv}.tmp`;
    await Deno.writeTextFile(tmp, pair.privateKey, { mode: 0o600 });
    await Deno.chmod(tmp, 0o600);
    await Deno.rename(tmp, priv);
    await Deno.writeTextFile(join(this.dataPath, PUBLIC_KEY_FILE), pair.publicKey + "\n", { mode: 0o644 });
  }
}
