import type { Database } from "../../db/database.ts";
import type { Clock } from "../../clock.ts";
import { AppError } from "../../errors.ts";

export type ChallengePurpose = "register" | "login";

/** How long a ceremony may take between its options and its answer. */
export const CHALLENGE_TTL_MS = 2 * 60_000;
/** Outstanding challenges at most (sign-in options are public: a flood must not grow the table). */
const MAX_OUTSTANDING = 5_000;

export interface TakenChallenge {
  challenge: string;
  userId: number | null;
  rpId: string;
}

/**
 * WebAuthn challenges, one per ceremony under its own id, single use and short-lived (the reference
 * kept one global sign-in slot that concurrent sign-ins overwrote). Stored in SQLite, so a restart
 * between options and answer does not fail the ceremony.
 */
export class Challenges {
  constructor(private readonly db: Database, private readonly clock: Clock) {}

  /** Stores the options' `challenge`; returns the id the client sends back with its answer. */
  issue(purpose: ChallengePurpose, userId: number | null, rpId: string, challenge: string): string {
    const now = this.clock.now();
    this.db.run("DELETE FROM webauthn_challenges WHERE expires_at <= ?", now);
    const outstanding = this.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM webauthn_challenges")!.n;
    if (outstanding >= MAX_OUTSTANDING) {
      throw new AppError("RATE_LIMITED", "Too many passkey ceremonies in progress; try again in a minute.", {
        "Retry-After": "60",
      });
    }
    const id = Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString("base64url");
    this.db.run(
      "INSERT INTO webauthn_challenges (id, purpose, user_id, challenge, rp_id, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
      id,
      purpose,
      userId,
      challenge,
      rpId,
      now + CHALLENGE_TTL_MS,
    );
    return id;
  }

  /**
   * Removes and returns the challenge `id` of this purpose (and, for registration, of this user):
   * whatever happens next, it cannot be used again. Unknown, used, expired or foreign: CHALLENGE_INVALID.
   */
  take(id: string, purpose: ChallengePurpose, userId: number | null): TakenChallenge {
    const row = this.db.get<{ challenge: string; user_id: number | null; rp_id: string; expires_at: number }>(
      "DELETE FROM webauthn_challenges WHERE id = ? AND purpose = ? RETURNING challenge, user_id, rp_id, expires_at",
      id,
      purpose,
    );
    if (!row || row.expires_at <= this.clock.now() || (userId !== null && row.user_id !== userId)) {
      throw new AppError(
        "CHALLENGE_INVALID",
        "This passkey request has expired or was already used; start again.",
      );
    }
    return { challenge: row.challenge, userId: row.user_id, rpId: row.rp_id };
  }
}
