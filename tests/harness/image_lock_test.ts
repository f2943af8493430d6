import assert from "node:assert/strict";
import { join } from "node:path";
import { imageLockPath, withImageLock } from "../../scripts/image_lock.ts";

Deno.test("image work on one Podman store takes turns; another store does not wait", async () => {
  const dir = await Deno.makeTempDir({ prefix: "claworc-image-lock-" });
  try {
    const store = { CONTAINERS_STORAGE_CONF: join(dir, "a", "storage.conf") };
    const other = { CONTAINERS_STORAGE_CONF: join(dir, "b", "storage.conf") };
    assert.equal(imageLockPath(store), join(dir, "a", "image-builds.lock"));
    let inside = 0;
    let most = 0;
    const order: string[] = [];
    const work = (name: string) =>
      withImageLock(store, async () => {
        inside++;
        most = Math.max(most, inside);
        order.push(`${name}+`);
        await new Promise((r) => setTimeout(r, 50));
        order.push(`${name}-`);
        inside--;
        return name;
      });
    // The other store's work starts while the first store's lock is held and ends before it is free.
    let otherDone = false;
    const results = await Promise.all([
      work("1"),
      work("2"),
      work("3"),
      withImageLock(other, () => Promise.resolve(otherDone = order.length < 6)),
    ]);
    assert.deepEqual(results.slice(0, 3), ["1", "2", "3"]);
    assert.equal(most, 1, `at most one holder at a time: ${order.join(" ")}`);
    assert.ok(otherDone, "a different store's lock was not held up");
    // A failure inside releases the lock.
    await assert.rejects(withImageLock(store, () => Promise.reject(new Error("build failed"))), /build failed/);
    assert.equal(await withImageLock(store, () => Promise.resolve("after")), "after");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
