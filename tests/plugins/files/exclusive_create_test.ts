import assert from "node:assert/strict";
import { fileAudit, filesWorld, json } from "./_files_fixture.ts";

Deno.test("files: of two exclusive creates of one new file at the same time, one wins and the other is a 409", async () => {
  const w = await filesWorld();
  try {
    const { t, base, root } = w;
    for (let round = 0; round < 6; round++) {
      const path = `${root}/new-${round}.txt`;
      const answers = await Promise.all(["first", "second"].map(async (content) => {
        const res = await t.request("POST", `${base}/create`, {
          cookie: w.admin,
          body: { path, content, exclusive: true },
        });
        return { content, status: res.status, body: await res.json() };
      }));
      assert.deepEqual(answers.map((a) => a.status).sort(), [200, 409], JSON.stringify(answers));
      const loser = answers.find((a) => a.status === 409)!;
      assert.equal(loser.body.code, "CONFLICT");
      const winner = answers.find((a) => a.status === 200)!;
      assert.equal(await Deno.readTextFile(path), winner.content, "the winner's content is not replaced");
    }
    assert.deepEqual([...Deno.readDirSync(root)].filter((e) => e.name.includes(".claworc-")), [], "no temp file left");
    assert.equal(fileAudit(w, "create").filter((e) => e.outcome === "failure").length, 6);
    // Without `exclusive`, a create still replaces what is there.
    await json(
      await t.request("POST", `${base}/create`, { cookie: w.admin, body: { path: `${root}/new-0.txt`, content: "x" } }),
    );
    assert.equal(await Deno.readTextFile(`${root}/new-0.txt`), "x");
  } finally {
    await w.close();
  }
});
