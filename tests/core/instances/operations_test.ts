import assert from "node:assert/strict";
import { ManualClock } from "../../../core/clock.ts";
import { EventBus } from "../../../core/events/bus.ts";
import type { LiveEvent } from "../../../core/instances/live_events.ts";
import { type Operation, Operations } from "../../../core/instances/operations.ts";

Deno.test("an operation publishes every step change; a failure marks the rest skipped and keeps the cause", async () => {
  const bus = new EventBus<LiveEvent>();
  const seen: Operation[] = [];
  bus.subscribe((e) => e.type === "operation" && seen.push(e.operation));
  const ops = new Operations(bus, new ManualClock(Date.parse("2026-01-01T00:00:00Z")));
  const run = ops.begin(7, "create", ["volumes", "container", "start"]);
  assert.equal(await run.step("volumes", () => Promise.resolve(42)), 42);
  await assert.rejects(run.step("container", () => Promise.reject(new Error("image missing"))), /image missing/);
  run.fail("image missing");
  const last = ops.latest(7)!;
  assert.deepEqual(last.steps.map((s) => [s.name, s.state, s.error]), [
    ["volumes", "done", null],
    ["container", "failed", "image missing"],
    ["start", "skipped", null],
  ]);
  assert.equal(last.state, "failed");
  assert.equal(last.error, "image missing");
  assert.deepEqual(
    seen.map((o) => o.steps.map((s) => s.state[0]).join("")),
    ["ppp", "rpp", "dpp", "drp", "dfp", "dfs"],
    "begin, each start and end of a step, and the end were published",
  );
  seen[0].steps[0].state = "failed";
  assert.equal(ops.latest(7)!.steps[0].state, "done", "published copies cannot change the operation");
  ops.forget(7);
  assert.equal(ops.latest(7), undefined);
});

Deno.test("a throwing bus listener does not break the publisher or other listeners", () => {
  const bus = new EventBus<number>();
  const got: number[] = [];
  bus.subscribe(() => {
    throw new Error("boom");
  });
  const off = bus.subscribe((n) => got.push(n));
  bus.publish(1);
  off();
  bus.publish(2);
  assert.deepEqual(got, [1]);
  assert.equal(bus.size, 1);
});
