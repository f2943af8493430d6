import { createHash } from "node:crypto";
import type { Database } from "../db/database.ts";
import type { Clock } from "../clock.ts";
import type { Role } from "../users/users.ts";

/** The signed-in person behind a request. */
export interface SessionUser {
  id: number;
  username: string;
  role: Role;
}

/** Only refresh `last_seen_at` this often, so reads do not turn every request into a write. */
const TOUCH_EVERY_MS = 60_000;

const hash = (token: string) => createHash("sha256").update(token).digest("hex");

/** Server-side sessions: random tokens given to browsers, only their SHA-256 stored, idle and absolute expiry. */
export class Sessions {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly idleMs: number,
    private readonly maxMs: number,
  ) {}

  /** Starts a session; returns the token for the cookie. */
  create(userId: number, ip: string, userAgent: string): string {
    const token = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
    const now = this.clock.now();
    this.db.run(
      "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, ip, user_agent) VALUES (?, ?, ?, ?, ?, ?)",
      hash(token),
      userId,
      now,
      now,
      ip,
      userAgent.slice(0, 256),
    );
    return token;
  }

  /**
   * The user of a live session, refreshing its idle timer (unless `touch` is false, for checks that
   * are not user activity, like a push stream's heartbeat); undefined (and the row removed) when expired.
   */
  resolve(token: string, touch = true): SessionUser | undefined {
    if (!token || token.length > 128) return undefined;
    const key = hash(token);
    const row = this.db.get<SessionUser & { created_at: number; last_seen_at: number }>(
      `SELECT u.id, u.username, u.role, s.created_at, s.last_seen_at
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?`,
      key,
    );
    if (!row) return undefined;
    const now = this.clock.now();
    if (now - row.last_seen_at > this.idleMs || now - row.created_at > this.maxMs) {
      this.db.run("DELETE FROM sessions WHERE token_hash = ?", key);
      return undefined;
    }
    if (touch && now - row.last_seen_at > TOUCH_EVERY_MS) {
      this.db.run("UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?", now, key);
    }
    return { id: row.id, username: row.username, role: row.role };
  }

  /** Ends one session. */
  destroy(token: string): void {
    this.db.run("DELETE FROM sessions WHERE token_hash = ?", hash(token));
  }

  /** Ends every session of a user, optionally keeping the caller's own. Returns how many ended. */
  destroyForUser(userId: number, exceptToken?: string): number {
    if (exceptToken) {
      return this.db.run("DELETE FROM sessions WHERE user_id = ? AND token_hash <> ?", userId, hash(exceptToken))
        .changes;
    }
    return this.db.run("DELETE FROM sessions WHERE user_id = ?", userId).changes;
  }

  /** Removes expired sessions (run periodically). */
  purgeExpired(): number {
    const now = this.clock.now();
    return this.db.run(
      "DELETE FROM sessions WHERE last_seen_at < ? OR created_at < ?",
      now - this.idleMs,
      now - this.maxMs,
    ).changes;
  }
}
