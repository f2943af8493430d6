import assert from "node:assert/strict";
import { join } from "node:path";
import { unpack } from "../../scripts/build_agent_image.ts";

Deno.test("agent image context: packages packed at once into one empty cache all unpack, and the cache keeps one copy", async () => {
  const dir = await Deno.makeTempDir({ prefix: "claworc-unpack-" });
  try {
    const cache = join(dir, "cache");
    const spec = "is-number@7.0.0";
    // Parallel test files build the agent image at once; on a new machine they all find the cache empty.
    await Promise.all([1, 2, 3].map((n) => unpack(spec, join(dir, `dest-${n}`), cache)));
    for (const n of [1, 2, 3]) {
      const manifest = JSON.parse(await Deno.readTextFile(join(dir, `dest-${n}`, "package.json")));
      assert.equal(`${manifest.name}@${manifest.version}`, spec);
    }
    const left = [];
    for await (const e of Deno.readDir(cache)) left.push(e.name);
    assert.deepEqual(left, ["is-number_7.0.0.tgz"], "no pack folder or stray tarball is left");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
