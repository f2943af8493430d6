import assert from "node:assert/strict";
import { fileAudit, filesWorld, ownedFile, q, send } from "./_files_fixture.ts";

Deno.test("files: HEAD on a download answers GET's headers and is audited as what it was, not a failed download", async () => {
  const w = await filesWorld();
  try {
    const { base, root, owner } = w;
    await ownedFile(`${root}/report.txt`, "twelve bytes", owner);
    const head = await send(w, "HEAD", `${base}/download?${q(`${root}/report.txt`)}`);
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("content-length"), "12");
    assert.match(head.headers.get("content-disposition")!, /^attachment; filename="report\.txt"/);
    assert.equal(await head.text(), "");
    const [entry] = fileAudit(w, "download");
    assert.equal(entry.outcome, "success", JSON.stringify(entry.details));
    assert.deepEqual(entry.details, { path: `${root}/report.txt`, size: 0, head: true });

    // Refusals are the same as for GET.
    const missing = await send(w, "HEAD", `${base}/download?${q(`${root}/nope.txt`)}`);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
    assert.equal(fileAudit(w, "download")[0].outcome, "failure");

    // A GET still streams the bytes and records the size sent.
    const get = await send(w, "GET", `${base}/download?${q(`${root}/report.txt`)}`);
    assert.equal(await get.text(), "twelve bytes");
    assert.deepEqual(fileAudit(w, "download")[0].details, { path: `${root}/report.txt`, size: 12 });
  } finally {
    await w.close();
  }
});
