import assert from "node:assert/strict";
import { ManualClock } from "../../../core/clock.ts";
import { LoginThrottle } from "../../../core/auth/login_throttle.ts";

Deno.test("delays double after the free failures and are capped", () => {
  const clock = new ManualClock();
  const t = new LoginThrottle(clock);
  for (let i = 0; i < 5; i++) t.fail("Eve", "1.1.1.1");
  assert.equal(t.retryAfterMs("eve", "2.2.2.2"), 0, "five failures are free");
  t.fail("eve", "1.1.1.1");
  assert.equal(t.retryAfterMs("EVE", "2.2.2.2"), 2_000, "usernames ignore case");
  t.fail("eve", "1.1.1.1");
  assert.equal(t.retryAfterMs("eve", "2.2.2.2"), 4_000);
  for (let i = 0; i < 20; i++) t.fail("eve", "1.1.1.1");
  assert.equal(t.retryAfterMs("eve", "2.2.2.2"), 15 * 60_000);
  clock.advance(15 * 60_000);
  assert.equal(t.retryAfterMs("eve", "2.2.2.2"), 0);
  t.succeed("eve");
  t.fail("eve", "2.2.2.2");
  assert.equal(t.retryAfterMs("eve", "3.3.3.3"), 0, "success reset the count");
});

Deno.test("old failures are forgotten after an hour", () => {
  const clock = new ManualClock();
  const t = new LoginThrottle(clock);
  for (let i = 0; i < 5; i++) t.fail("x", "9.9.9.9");
  clock.advance(61 * 60_000);
  t.fail("x", "9.9.9.9");
  assert.equal(t.retryAfterMs("x", "8.8.8.8"), 0);
});
