import type { Database } from "../db/database.ts";
import type { Fernet } from "./fernet.ts";

const CHECK_KEY = "master_key_check";
const CHECK_TEXT = "claworc master key check";

/** True when the database already holds a token made with some master key. */
export function hasKeyCheck(db: Database): boolean {
  return db.get("SELECT 1 FROM settings WHERE key = ?", CHECK_KEY) !== undefined;
}

/**
 * Proves the master key is the one the database was encrypted with, storing a check token on first
 * use; a different key stops start-up with a plain message instead of failing obscurely later.
 */
export async function verifyMasterKey(db: Database, fernet: Fernet): Promise<void> {
  const row = db.get<{ value: string }>("SELECT value FROM settings WHERE key = ?", CHECK_KEY);
  if (!row) {
    db.run(
      "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)",
      CHECK_KEY,
      await fernet.encrypt(CHECK_TEXT),
      new Date().toISOString(),
    );
    return;
  }
  let ok = false;
  try {
    ok = (await fernet.decryptText(row.value)) === CHECK_TEXT;
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new Error(
      "The master key does not match the one this database's secrets were encrypted with. " +
        "Restore the original key file or CLAWORC_SECRET_KEY; with another key stored secrets cannot be read.",
    );
  }
}
