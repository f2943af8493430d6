import assert from "node:assert/strict";
import { filesWorld, json, multipart, ownedDir, ownedFile, q, send } from "./_files_fixture.ts";

const noTemp = (dir: string) =>
  [...Deno.readDirSync(dir)].filter((e) => e.name.includes(".claworc-")).map((e) => e.name);

Deno.test("files: names up to 255 bytes of non-ASCII text can be created, edited and uploaded", async () => {
  const w = await filesWorld();
  try {
    const { t, base, root } = w;
    const accents = "é".repeat(125) + ".txt"; // 254 bytes, 129 characters
    const cjk = "文".repeat(85); // 255 bytes
    const emoji = "x" + "😀".repeat(63); // 253 bytes: truncating a temp name must not split a character
    for (const name of [accents, cjk, emoji]) {
      await json(
        await t.request("POST", `${base}/create`, {
          cookie: w.admin,
          body: { path: `${root}/${name}`, content: "one" },
        }),
      );
      await json(
        await t.request("POST", `${base}/create`, {
          cookie: w.admin,
          body: { path: `${root}/${name}`, content: "two" },
        }),
      );
      assert.equal(await Deno.readTextFile(`${root}/${name}`), "two");
    }
    const form = multipart([{ name: "ü".repeat(127), data: new TextEncoder().encode("up") }]);
    const up = await send(w, "POST", `${base}/upload?${q(root)}`, {
      body: form.body,
      headers: { "content-type": form.contentType },
    });
    assert.equal((await json(up)).filename, "ü".repeat(127));
    assert.equal(await Deno.readTextFile(`${root}/${"ü".repeat(127)}`), "up");
    assert.deepEqual(noTemp(root), []);
  } finally {
    await w.close();
  }
});

Deno.test("files: a path the instance finds too long is a 400, not an internal error, and leaves nothing behind", async () => {
  const w = await filesWorld();
  try {
    const { t, base, root, owner } = w;
    // A 4090-byte path (under PATH_MAX) with a short name: the temp name beside it pushes past PATH_MAX.
    const name = "f".repeat(20);
    let deep = root;
    while (deep.length < 4090 - name.length - 1) {
      deep = await ownedDir(`${deep}/${"d".repeat(Math.min(250, 4090 - name.length - 2 - deep.length))}`, owner);
    }
    assert.equal(`${deep}/${name}`.length, 4090);
    await ownedFile(`${deep}/keep.txt`, "keep", owner);
    const res = await t.request("POST", `${base}/create`, {
      cookie: w.admin,
      body: { path: `${deep}/${name}`, content: "x" },
    });
    assert.equal((await json(res, 400)).code, "VALIDATION_FAILED");
    assert.deepEqual([...Deno.readDirSync(deep)].map((e) => e.name), ["keep.txt"]);
  } finally {
    await w.close();
  }
});
