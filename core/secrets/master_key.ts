import { join } from "node:path";
import { Fernet } from "./fernet.ts";

/** Where the master key came from, for start-up messages and `doctor`. */
export type MasterKeySource = "environment" | "key-file" | "new-key-file";

/** Name of the key file inside the data folder; it never lives in the database. */
export const MASTER_KEY_FILE = "master.key";

/**
 * Loads the master key from `CLAWORC_SECRET_KEY`, else from the key file, creating the file (0600)
 * when `mayCreate` is true. Throws a plain error naming the fix when the key is malformed.
 */
export async function loadMasterKey(
  dataPath: string,
  fromEnv: string | null,
  mayCreate: boolean,
): Promise<{ fernet: Fernet; source: MasterKeySource }> {
  if (fromEnv) {
    return { fernet: await parse(fromEnv, "CLAWORC_SECRET_KEY"), source: "environment" };
  }
  const path = join(dataPath, MASTER_KEY_FILE);
  try {
    const text = (await Deno.readTextFile(path)).trim();
    return { fernet: await parse(text, path), source: "key-file" };
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  if (!mayCreate) {
    throw new Error(
      `The master key is missing: neither CLAWORC_SECRET_KEY nor ${path} exists, but this database already holds ` +
        `encrypted secrets. Restore the key file (or set CLAWORC_SECRET_KEY) from your backup; without it stored ` +
        `secrets cannot be read.`,
    );
  }
  const key = Fernet.generateKey();
  await Deno.writeTextFile(path, key + "\n", { mode: 0o600, createNew: true });
  await Deno.chmod(path, 0o600);
  return { fernet: await Fernet.fromKey(key), source: "new-key-file" };
}

async function parse(key: string, where: string): Promise<Fernet> {
  try {
    return await Fernet.fromKey(key);
  } catch {
    throw new Error(`The master key in ${where} is not valid: it must be 32 bytes of url-safe base64 (44 characters).`);
  }
}
