import assert from "node:assert/strict";
import { Semaphore } from "../../core/semaphore.ts";

Deno.test("a semaphore runs at most its limit at once, all tasks finish, failures release their place", async () => {
  const gate = new Semaphore(3);
  let running = 0;
  let most = 0;
  const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) =>
    gate.run(async () => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 5 + (i % 4)));
      running--;
      if (i % 5 === 0) throw new Error(`task ${i} failed`);
      return i;
    })));
  assert.equal(most, 3);
  assert.equal(gate.peak, 3);
  assert.equal(results.filter((r) => r.status === "fulfilled").length, 16);
  assert.equal(results.filter((r) => r.status === "rejected").length, 4);
  assert.equal(await gate.run(() => Promise.resolve("after")), "after", "nothing is left holding a place");
});
