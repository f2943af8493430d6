import type { Database } from "../../db/database.ts";

/** A stored passkey as the API shows it (never the public key). */
export interface PasskeySummary {
  id: string;
  name: string;
  created_at: string;
  last_used_at: string | null;
  /** `multiDevice` passkeys are synced (e.g. by a password manager); `singleDevice` stay on one authenticator. */
  device_type: string;
  backed_up: boolean;
}

/** What verification needs about a stored passkey. */
export interface StoredPasskey {
  id: string;
  userId: number;
  publicKey: Uint8Array<ArrayBuffer>;
  signCount: number;
  transports: string[];
}

export interface NewPasskey extends StoredPasskey {
  name: string;
  deviceType: string;
  backedUp: boolean;
}

/** The most passkeys one account may hold (each is a row and an entry in every sign-in's allow list). */
export const MAX_PASSKEYS_PER_USER = 20;

/** Passkeys and users' WebAuthn handles in SQLite. */
export class PasskeyStore {
  constructor(private readonly db: Database) {}

  /** The user's random WebAuthn user handle (base64url), created on first use. */
  handleFor(userId: number): string {
    const row = this.db.get<{ handle: string }>("SELECT handle FROM passkey_handles WHERE user_id = ?", userId);
    if (row) return row.handle;
    const handle = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
    this.db.run("INSERT INTO passkey_handles (user_id, handle) VALUES (?, ?)", userId, handle);
    return handle;
  }

  /** The user a handle belongs to. */
  userForHandle(handle: string): number | undefined {
    return this.db.get<{ user_id: number }>("SELECT user_id FROM passkey_handles WHERE handle = ?", handle)?.user_id;
  }

  list(userId: number): PasskeySummary[] {
    return this.db.all<Omit<PasskeySummary, "backed_up"> & { backed_up: number }>(
      `SELECT id, name, created_at, last_used_at, device_type, backed_up FROM passkeys
        WHERE user_id = ? ORDER BY rowid`,
      userId,
    ).map((r) => ({ ...r, backed_up: r.backed_up === 1 }));
  }

  /** Passkeys per user id (users without any are absent). */
  counts(): Map<number, number> {
    const rows = this.db.all<{ user_id: number; n: number }>(
      "SELECT user_id, COUNT(*) AS n FROM passkeys GROUP BY user_id",
    );
    return new Map(rows.map((r) => [r.user_id, r.n]));
  }

  count(userId: number): number {
    return this.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM passkeys WHERE user_id = ?", userId)!.n;
  }

  /** Users (of a role, or all) that have no passkey: who a passkey-only policy would lock out. */
  usersWithout(role?: "admin" | "user"): string[] {
    return this.db.all<{ username: string }>(
      `SELECT username FROM users u WHERE (? IS NULL OR role = ?)
          AND NOT EXISTS (SELECT 1 FROM passkeys p WHERE p.user_id = u.id) ORDER BY username`,
      role ?? null,
      role ?? null,
    ).map((r) => r.username);
  }

  /** For verification; undefined when unknown. */
  find(id: string): StoredPasskey | undefined {
    const row = this.db.get<
      { id: string; user_id: number; public_key: Uint8Array; sign_count: number; transports: string }
    >(
      "SELECT id, user_id, public_key, sign_count, transports FROM passkeys WHERE id = ?",
      id,
    );
    return row && {
      id: row.id,
      userId: row.user_id,
      publicKey: new Uint8Array(row.public_key),
      signCount: row.sign_count,
      transports: JSON.parse(row.transports),
    };
  }

  /** The user's passkeys with their transports (for allow and exclude lists). */
  descriptors(userId: number): { id: string; transports: string[] }[] {
    return this.db.all<{ id: string; transports: string }>(
      "SELECT id, transports FROM passkeys WHERE user_id = ? ORDER BY rowid",
      userId,
    ).map((r) => ({ id: r.id, transports: JSON.parse(r.transports) }));
  }

  add(p: NewPasskey, now: Date): void {
    this.db.run(
      `INSERT INTO passkeys (id, user_id, name, public_key, sign_count, transports, device_type, backed_up, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      p.id,
      p.userId,
      p.name,
      p.publicKey,
      p.signCount,
      JSON.stringify(p.transports),
      p.deviceType,
      p.backedUp ? 1 : 0,
      now.toISOString(),
    );
  }

  /** Records a successful use: the new signature counter and backup state. */
  used(id: string, signCount: number, backedUp: boolean, now: Date): void {
    this.db.run(
      "UPDATE passkeys SET sign_count = ?, backed_up = ?, last_used_at = ? WHERE id = ?",
      signCount,
      backedUp ? 1 : 0,
      now.toISOString(),
      id,
    );
  }

  /** Renames one of the user's passkeys; false when the user has no such passkey. */
  rename(userId: number, id: string, name: string): boolean {
    return this.db.run("UPDATE passkeys SET name = ? WHERE id = ? AND user_id = ?", name, id, userId).changes === 1;
  }

  /** Deletes one of the user's passkeys; false when the user has no such passkey. */
  delete(userId: number, id: string): boolean {
    return this.db.run("DELETE FROM passkeys WHERE id = ? AND user_id = ?", id, userId).changes === 1;
  }

  /** Deletes all of a user's passkeys (account recovery); returns how many. */
  deleteAll(userId: number): number {
    return this.db.run("DELETE FROM passkeys WHERE user_id = ?", userId).changes;
  }
}
