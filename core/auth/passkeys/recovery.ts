import type { Database } from "../../db/database.ts";
import type { Clock } from "../../clock.ts";

/** How long a recovery granted by the operator lets the account sign in with its password. */
export const RECOVERY_WINDOW_MS = 60 * 60_000;

/**
 * Account recovery for people who lost their passkeys: the operator (`claworc admin recover`) grants
 * one password sign-in within a window, whatever the sign-in policy says. The first use spends it.
 */
export class AccountRecovery {
  constructor(private readonly db: Database, private readonly clock: Clock) {}

  grant(userId: number): Date {
    const until = this.clock.now() + RECOVERY_WINDOW_MS;
    this.db.run(
      "INSERT INTO passkey_recovery (user_id, until) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET until = excluded.until",
      userId,
      until,
    );
    return new Date(until);
  }

  /** Spends the user's recovery if one is open; true when it was. */
  spend(userId: number): boolean {
    const row = this.db.get<{ until: number }>(
      "DELETE FROM passkey_recovery WHERE user_id = ? RETURNING until",
      userId,
    );
    return row !== undefined && row.until > this.clock.now();
  }

  /** Whether a recovery is open (without spending it). */
  open(userId: number): boolean {
    const row = this.db.get<{ until: number }>("SELECT until FROM passkey_recovery WHERE user_id = ?", userId);
    return row !== undefined && row.until > this.clock.now();
  }
}
