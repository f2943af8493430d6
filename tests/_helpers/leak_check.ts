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

/** A counter of the SSH channels open on a pool (as `/metrics` counts them). */
export function openSshChannels(pool: { openChannels(): Record<string, number> }): () => number {
  return () => Object.values(pool.openChannels()).reduce((a, b) => a + b, 0);
}

let intervals: Set<unknown> | undefined;

/**
 * The intervals set and not yet cleared since the first call (which wraps `setInterval` and
 * `clearInterval` to keep count). The resource table does not hold timers, and a socket's re-check
 * interval left running would keep the socket's whole state, and its work, for good.
 */
export function liveIntervals(): ReadonlySet<unknown> {
  if (intervals) return intervals;
  const live = intervals = new Set<unknown>();
  const set = globalThis.setInterval, clear = globalThis.clearInterval;
  globalThis.setInterval = ((...args: Parameters<typeof set>) => {
    const id = set(...args);
    live.add(id);
    return id;
  }) as typeof set;
  globalThis.clearInterval = ((id?: number) => {
    live.delete(id);
    clear(id);
  }) as typeof clear;
  return live;
}

/**
 * After a failure: clears the intervals set since `held` (a copy of `liveIntervals()`) was taken, so
 * that leaked ones do not outlive the world they use (and report an error in place of the failure).
 */
export function clearIntervalsSince(held: ReadonlySet<unknown>): void {
  for (const id of [...liveIntervals()]) if (!held.has(id)) clearInterval(id as number);
}

/**
 * Sends a whole WebSocket handshake for `path` to the server on `port` (127.0.0.1) with `headers`
 * (cookie, origin, ...), and hangs up without waiting for the answer: a browser that left early.
 */
export async function abandonedHandshake(port: number, path: string, headers: Record<string, string>): Promise<void> {
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  const lines = [`GET ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`, "Upgrade: websocket", "Connection: Upgrade"];
  lines.push(`Sec-WebSocket-Key: ${key}`, "Sec-WebSocket-Version: 13");
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(lines.join("\r\n") + "\r\n\r\n"));
  } finally {
    conn.close();
  }
}
