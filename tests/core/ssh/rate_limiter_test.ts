import assert from "node:assert/strict";
import { ManualClock } from "../../../core/clock.ts";
import { AppError } from "../../../core/errors.ts";
import { ConnectRateLimiter, rateLimitDefaults, rateLimitedError } from "../../../core/ssh/rate_limiter.ts";

Deno.test("defaults: 10 attempts a minute, block after 5 failures for 30 s up to 5 min", () => {
  assert.deepEqual(rateLimitDefaults, {
    maxAttempts: 10,
    windowMs: 60_000,
    failuresToBlock: 5,
    blockMs: 30_000,
    maxBlockMs: 300_000,
  });
});

Deno.test("ten attempts pass; the eleventh waits until the oldest leaves the window", () => {
  const clock = new ManualClock();
  const limiter = new ConnectRateLimiter(clock);
  for (let i = 0; i < 10; i++) {
    assert.deepEqual(limiter.tryAcquire(1), { allowed: true });
    clock.advance(1_000);
  }
  // The first attempt was 10 s ago, so it leaves the window in 50 s.
  assert.deepEqual(limiter.tryAcquire(1), { allowed: false, retryAfterMs: 50_000, reason: "window" });
  assert.deepEqual(limiter.tryAcquire(2), { allowed: true }, "instances are independent");
  assert.equal(limiter.snapshot(1).attemptsInWindow, 10, "refused attempts are not recorded");
  clock.advance(49_999);
  assert.equal(limiter.tryAcquire(1).allowed, false);
  clock.advance(1);
  assert.deepEqual(limiter.tryAcquire(1), { allowed: true });
  assert.deepEqual(limiter.tryAcquire(1), { allowed: false, retryAfterMs: 1_000, reason: "window" });
});

Deno.test("five failures block for 30 s, further failures double the block up to 5 min", () => {
  const clock = new ManualClock();
  const limiter = new ConnectRateLimiter(clock);
  for (let i = 0; i < 4; i++) limiter.failed(7);
  assert.deepEqual(limiter.tryAcquire(7), { allowed: true }, "four failures do not block");
  limiter.failed(7);
  assert.deepEqual(limiter.tryAcquire(7), { allowed: false, retryAfterMs: 30_000, reason: "blocked" });
  assert.deepEqual(limiter.snapshot(7), {
    attemptsInWindow: 1,
    consecutiveFailures: 5,
    blockedUntil: clock.now() + 30_000,
  });

  const blocks: number[] = [];
  for (const wait of [30_000, 60_000, 120_000, 240_000, 300_000, 300_000]) {
    clock.advance(wait);
    assert.equal(limiter.tryAcquire(7).allowed, true, `free again after ${wait} ms`);
    limiter.failed(7);
    const refused = limiter.tryAcquire(7);
    assert.equal(refused.allowed, false);
    if (!refused.allowed) {
      assert.equal(refused.reason, "blocked");
      blocks.push(refused.retryAfterMs);
    }
  }
  assert.deepEqual(blocks, [60_000, 120_000, 240_000, 300_000, 300_000, 300_000]);
});

Deno.test("a block is reported before a full window", () => {
  const clock = new ManualClock();
  const limiter = new ConnectRateLimiter(clock);
  for (let i = 0; i < 10; i++) {
    limiter.tryAcquire(3);
    limiter.failed(3);
  }
  const result = limiter.tryAcquire(3);
  assert.equal(result.allowed, false);
  assert.equal(!result.allowed && result.reason, "blocked");
});

Deno.test("a success resets failures and lifts the block", () => {
  const clock = new ManualClock();
  const limiter = new ConnectRateLimiter(clock);
  for (let i = 0; i < 6; i++) limiter.failed(4);
  assert.equal(limiter.tryAcquire(4).allowed, false);
  limiter.succeeded(4);
  assert.deepEqual(limiter.tryAcquire(4), { allowed: true });
  assert.equal(limiter.snapshot(4).consecutiveFailures, 0);
  assert.equal(limiter.snapshot(4).blockedUntil, null);
  for (let i = 0; i < 4; i++) limiter.failed(4);
  assert.deepEqual(limiter.tryAcquire(4), { allowed: true }, "the count starts over after a success");
  limiter.failed(4);
  assert.deepEqual(limiter.tryAcquire(4), { allowed: false, retryAfterMs: 30_000, reason: "blocked" });
});

Deno.test("forget clears an instance", () => {
  const clock = new ManualClock();
  const limiter = new ConnectRateLimiter(clock);
  for (let i = 0; i < 10; i++) limiter.tryAcquire(5);
  for (let i = 0; i < 5; i++) limiter.failed(5);
  limiter.forget(5);
  assert.deepEqual(limiter.snapshot(5), { attemptsInWindow: 0, consecutiveFailures: 0, blockedUntil: null });
  assert.equal(limiter.size, 0);
  assert.deepEqual(limiter.tryAcquire(5), { allowed: true });
});

Deno.test("memory stays bounded: old attempts are dropped and idle instances forgotten", () => {
  const clock = new ManualClock();
  const limiter = new ConnectRateLimiter(clock);
  for (let i = 0; i < 10_000; i++) {
    limiter.tryAcquire(9);
    limiter.succeeded(9);
    clock.advance(500);
  }
  // 500 ms apart, so the window holds at most 10 (the cap) at any time.
  assert.equal(limiter.snapshot(9).attemptsInWindow, 10);
  for (let id = 100; id < 1_100; id++) limiter.tryAcquire(id);
  assert.equal(limiter.size, 1_001);
  clock.advance(60_000);
  for (let id = 100; id < 1_100; id++) limiter.snapshot(id);
  limiter.snapshot(9);
  assert.equal(limiter.size, 0, "entries with nothing left in the window are dropped");

  const blocked = new ConnectRateLimiter(clock);
  for (let i = 0; i < 5; i++) blocked.failed(1);
  clock.advance(30_000);
  assert.equal(blocked.snapshot(1).blockedUntil, null, "an expired block reads as none");
  assert.equal(blocked.snapshot(1).consecutiveFailures, 5, "failures are kept until a success");
});

Deno.test("custom options and invalid ones", () => {
  const clock = new ManualClock();
  const limiter = new ConnectRateLimiter(clock, { maxAttempts: 2, windowMs: 1_000 });
  assert.equal(limiter.tryAcquire(1).allowed, true);
  assert.equal(limiter.tryAcquire(1).allowed, true);
  assert.deepEqual(limiter.tryAcquire(1), { allowed: false, retryAfterMs: 1_000, reason: "window" });
  assert.throws(() => new ConnectRateLimiter(clock, { maxAttempts: 0 }), RangeError);
  assert.throws(() => new ConnectRateLimiter(clock, { blockMs: 10_000, maxBlockMs: 5_000 }), RangeError);
});

Deno.test("rateLimitedError is a 429 naming the instance with Retry-After in seconds", () => {
  const err = rateLimitedError(42, { retryAfterMs: 29_001, reason: "blocked" });
  assert.ok(err instanceof AppError);
  assert.equal(err.code, "SSH_RATE_LIMITED");
  assert.equal(err.status, 429);
  assert.deepEqual(err.headers, { "Retry-After": "30" });
  assert.match(err.message, /Instance 42 .*30 s/);
  assert.match(rateLimitedError(1, { retryAfterMs: 10, reason: "window" }).message, /too many.*1 s/);
});
