import type { Clock } from "../clock.ts";
import { AppError } from "../errors.ts";

/** Limits on SSH connection attempts to one instance. */
export interface RateLimitOptions {
  /** Attempts allowed within one sliding window. */
  maxAttempts: number;
  windowMs: number;
  /** Consecutive failures that start a block. */
  failuresToBlock: number;
  /** First block; doubles with every further failure. */
  blockMs: number;
  maxBlockMs: number;
}

/** The defaults: 10 attempts a minute; 5 failures in a row block for 30 s, doubling up to 5 min. */
export const rateLimitDefaults: RateLimitOptions = {
  maxAttempts: 10,
  windowMs: 60_000,
  failuresToBlock: 5,
  blockMs: 30_000,
  maxBlockMs: 5 * 60_000,
};

/** The answer of `tryAcquire`. */
export type AcquireResult =
  | { allowed: true }
  | { allowed: false; retryAfterMs: number; reason: "window" | "blocked" };

interface Entry {
  /** Times of the attempts still inside the window, oldest first; never longer than maxAttempts. */
  attempts: number[];
  consecutiveFailures: number;
  blockedUntil: number | null;
}

/** Per-instance limiter of SSH connection attempts: a sliding window plus an escalating block after failures. */
export class ConnectRateLimiter {
  readonly options: RateLimitOptions;
  #entries = new Map<number, Entry>();

  constructor(private readonly clock: Clock, options: Partial<RateLimitOptions> = {}) {
    this.options = { ...rateLimitDefaults, ...options };
    const o = this.options;
    for (const [name, value] of Object.entries(o)) {
      if (!Number.isFinite(value) || value <= 0) throw new RangeError(`rate limit ${name} must be positive`);
    }
    if (!Number.isInteger(o.maxAttempts) || !Number.isInteger(o.failuresToBlock)) {
      throw new RangeError("rate limit maxAttempts and failuresToBlock must be integers");
    }
    if (o.maxBlockMs < o.blockMs) throw new RangeError("rate limit maxBlockMs must be at least blockMs");
  }

  /** Records an attempt when one is allowed now; otherwise says why not and how long to wait. */
  tryAcquire(instanceId: number): AcquireResult {
    const now = this.clock.now();
    const entry = this.#entry(instanceId, now);
    if (entry.blockedUntil !== null) {
      return { allowed: false, retryAfterMs: entry.blockedUntil - now, reason: "blocked" };
    }
    if (entry.attempts.length >= this.options.maxAttempts) {
      return { allowed: false, retryAfterMs: entry.attempts[0] + this.options.windowMs - now, reason: "window" };
    }
    entry.attempts.push(now);
    return { allowed: true };
  }

  /** A successful connection clears the failures and any block. */
  succeeded(instanceId: number): void {
    const now = this.clock.now();
    const entry = this.#entries.get(instanceId);
    if (!entry) return;
    entry.consecutiveFailures = 0;
    entry.blockedUntil = null;
    this.#prune(instanceId, entry, now);
  }

  /** A failed connection; from the threshold on, each one (re)starts a block twice as long as the last. */
  failed(instanceId: number): void {
    const now = this.clock.now();
    const entry = this.#entry(instanceId, now);
    entry.consecutiveFailures++;
    const over = entry.consecutiveFailures - this.options.failuresToBlock;
    if (over >= 0) {
      const ms = Math.min(this.options.maxBlockMs, this.options.blockMs * 2 ** Math.min(over, 40));
      entry.blockedUntil = Math.max(entry.blockedUntil ?? 0, now + ms);
    }
  }

  /** Drops everything known about an instance (when it is deleted). */
  forget(instanceId: number): void {
    this.#entries.delete(instanceId);
  }

  /** The current state of one instance, for status pages and tests. */
  snapshot(instanceId: number): { attemptsInWindow: number; consecutiveFailures: number; blockedUntil: number | null } {
    const entry = this.#entries.get(instanceId);
    if (!entry) return { attemptsInWindow: 0, consecutiveFailures: 0, blockedUntil: null };
    this.#prune(instanceId, entry, this.clock.now());
    return {
      attemptsInWindow: entry.attempts.length,
      consecutiveFailures: entry.consecutiveFailures,
      blockedUntil: entry.blockedUntil,
    };
  }

  /** How many instances have state (a measure for tests and metrics). */
  get size(): number {
    return this.#entries.size;
  }

  /** The entry, pruned, created (and stored) when missing. */
  #entry(instanceId: number, now: number): Entry {
    let entry = this.#entries.get(instanceId);
    if (entry) {
      this.#prune(instanceId, entry, now);
    } else {
      entry = { attempts: [], consecutiveFailures: 0, blockedUntil: null };
    }
    this.#entries.set(instanceId, entry);
    return entry;
  }

  /** Drops attempts that left the window and an expired block; forgets an entry with nothing left. */
  #prune(instanceId: number, entry: Entry, now: number): void {
    const cutoff = now - this.options.windowMs;
    let drop = 0;
    while (drop < entry.attempts.length && entry.attempts[drop] <= cutoff) drop++;
    if (drop > 0) entry.attempts.splice(0, drop);
    if (entry.blockedUntil !== null && entry.blockedUntil <= now) entry.blockedUntil = null;
    if (entry.attempts.length === 0 && entry.consecutiveFailures === 0 && entry.blockedUntil === null) {
      this.#entries.delete(instanceId);
    }
  }
}

/** The AppError for a refused attempt: 429 with a Retry-After header in whole seconds. */
export function rateLimitedError(
  instanceId: number,
  result: { retryAfterMs: number; reason: "window" | "blocked" },
): AppError {
  const secs = Math.max(1, Math.ceil(result.retryAfterMs / 1000));
  const why = result.reason === "blocked"
    ? "is blocked after repeated failed SSH connections"
    : "has too many SSH connection attempts";
  return new AppError(
    "SSH_RATE_LIMITED",
    `Instance ${instanceId} ${why}; try again in ${secs} s`,
    { "Retry-After": String(secs) },
  );
}
