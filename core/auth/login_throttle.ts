import type { Clock } from "../clock.ts";

/** How failures turn into waiting time for one kind of key (a username or a client IP). */
export interface ThrottlePolicy {
  /** Failures allowed before any delay. */
  freeFailures: number;
  /** First delay once past the free failures; doubles with each further failure. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Failures older than this are forgotten. */
  forgetAfterMs: number;
}

export const USERNAME_POLICY: ThrottlePolicy = {
  freeFailures: 5,
  baseDelayMs: 2_000,
  maxDelayMs: 15 * 60_000,
  forgetAfterMs: 60 * 60_000,
};
export const IP_POLICY: ThrottlePolicy = {
  freeFailures: 20,
  baseDelayMs: 2_000,
  maxDelayMs: 15 * 60_000,
  forgetAfterMs: 60 * 60_000,
};

interface Entry {
  failures: number;
  lastFailure: number;
  blockedUntil: number;
}

/** Bounded so a spray of random usernames cannot grow memory without limit. */
const MAX_KEYS = 50_000;

/** Escalating delays after repeated failed sign-ins, per username and per client IP. */
export class LoginThrottle {
  #entries = new Map<string, Entry>();

  constructor(
    private readonly clock: Clock,
    private readonly policies = { username: USERNAME_POLICY, ip: IP_POLICY },
  ) {}

  /** Milliseconds the caller must wait before trying again (0 = go ahead). */
  retryAfterMs(username: string, ip: string): number {
    const now = this.clock.now();
    return Math.max(0, this.#blocked(`u:${username.toLowerCase()}`, now), this.#blocked(`ip:${ip}`, now));
  }

  /** Records a failed attempt for both keys. */
  fail(username: string, ip: string): void {
    const now = this.clock.now();
    this.#bump(`u:${username.toLowerCase()}`, this.policies.username, now);
    this.#bump(`ip:${ip}`, this.policies.ip, now);
  }

  /** A successful sign-in clears the username's record (the IP's decays on its own). */
  succeed(username: string): void {
    this.#entries.delete(`u:${username.toLowerCase()}`);
  }

  #blocked(key: string, now: number): number {
    const entry = this.#entries.get(key);
    return entry ? Math.max(0, entry.blockedUntil - now) : 0;
  }

  #bump(key: string, policy: ThrottlePolicy, now: number): void {
    let entry = this.#entries.get(key);
    if (!entry || now - entry.lastFailure > policy.forgetAfterMs) {
      entry = { failures: 0, lastFailure: now, blockedUntil: 0 };
    }
    entry.failures++;
    entry.lastFailure = now;
    const over = entry.failures - policy.freeFailures;
    if (over > 0) {
      entry.blockedUntil = now + Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(over - 1, 30));
    }
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    if (this.#entries.size > MAX_KEYS) this.#entries.delete(this.#entries.keys().next().value!);
  }
}
