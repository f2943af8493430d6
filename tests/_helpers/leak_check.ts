/**
 * Leak checks for long-running paths: what the process holds (Deno's resource table, plus counters
 * the table does not see, such as SSH channels or event-bus listeners) before and after rounds of
 * work. Take `settledHold` after a warm-up round, run the rounds, then `assertHoldsNoMore`.
 */
import assert from "node:assert/strict";
import { runtimeResourceCount } from "./runtime_resources.ts";

/** Counters besides the resource table, by what they count (e.g. "open SSH channels"). */
export type Counters = Record<string, () => number>;

export interface Hold {
  resources: number;
  /** rid → name, only to make a failure readable. */
  names: Record<string, string>;
  counters: Record<string, number>;
}

function resourceNames(): Record<string, string> {
  // deno-lint-ignore no-explicit-any
  return (Deno as any)[(Deno as any).internal].core.resources();
}

export function hold(counters: Counters = {}): Hold {
  return {
    resources: runtimeResourceCount(),
    names: resourceNames(),
    counters: Object.fromEntries(Object.entries(counters).map(([name, read]) => [name, read()])),
  };
}

/** What is held once nothing has changed for 300 ms. */
export async function settledHold(counters: Counters = {}): Promise<Hold> {
  let last = hold(counters);
  for (let stable = 0; stable < 3;) {
    await new Promise((r) => setTimeout(r, 100));
    const now = hold(counters);
    const same = now.resources === last.resources &&
      Object.keys(now.counters).every((k) => now.counters[k] === last.counters[k]);
    stable = same ? stable + 1 : 0;
    last = now;
  }
  return last;
}

/** The ways `now` holds more than `base` (empty when it holds nothing more). */
export function excess(base: Hold, now: Hold): string[] {
  const out: string[] = [];
  if (now.resources > base.resources) {
    const added = Object.entries(now.names).filter(([rid]) => !(rid in base.names)).map(([, n]) => n);
    out.push(`${now.resources - base.resources} resource table entries more (new: ${added.join(", ")})`);
  }
  for (const [name, n] of Object.entries(now.counters)) {
    if (n > base.counters[name]) out.push(`${n - base.counters[name]} more ${name}`);
  }
  return out;
}

/**
 * Waits up to `settleMs` (closes complete asynchronously) until no more than `base` is held; fails
 * saying what is left.
 */
export async function assertHoldsNoMore(
  base: Hold,
  what: string,
  counters: Counters = {},
  settleMs = 5_000,
): Promise<void> {
  const started = performance.now();
  while (excess(base, hold(counters)).length && performance.now() - started < settleMs) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const left = excess(base, hold(counters));
  assert.deepEqual(left, [], `${what}: ${left.join("; ")}`);
}
