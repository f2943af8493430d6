import assert from "node:assert/strict";
import { fileAudit, filesWorld, json, q, send } from "./_files_fixture.ts";

const enc = new TextEncoder();

/** A multipart body with one part whose Content-Disposition line is given verbatim. */
function onePart(disposition: string, data: string, boundary = "----claworc-names") {
  const text =
    `--${boundary}\r\n${disposition}\r\nContent-Type: application/octet-stream\r\n\r\n${data}\r\n--${boundary}--\r\n`;
  return { body: enc.encode(text), headers: { "content-type": `multipart/form-data; boundary=${boundary}` } };
}

Deno.test("files upload: a filename* that is not valid percent-encoded UTF-8 is a 400, audited as denied", async () => {
  const w = await filesWorld();
  try {
    for (const star of ["%ZZ.txt", "bad%E0%A4.txt", "%"]) {
      const part = onePart(`Content-Disposition: form-data; name="file"; filename*=UTF-8''${star}`, "x");
      const res = await send(w, "POST", `${w.base}/upload?${q(w.root)}`, part);
      assert.equal((await json(res, 400)).code, "VALIDATION_FAILED", star);
    }
    assert.deepEqual([...Deno.readDirSync(w.root)], [], "nothing written");
    assert.ok(fileAudit(w, "upload").every((e) => e.outcome === "denied"));
  } finally {
    await w.close();
  }
});

Deno.test("files upload: backslashes in a browser's filename are kept as they are (browsers do not escape them)", async () => {
  const w = await filesWorld();
  try {
    // The HTML standard escapes only `"`, CR and LF (as %22, %0D, %0A); a backslash is sent raw.
    for (const [sent, name] of [[`a\\b.txt`, `a\\b.txt`], [`end\\`, `end\\`], [`q%22\\%22.txt`, `q"\\".txt`]]) {
      const part = onePart(`Content-Disposition: form-data; name="file"; filename="${sent}"`, name);
      const up = await json(await send(w, "POST", `${w.base}/upload?${q(w.root)}`, part));
      assert.equal(up.filename, name);
      assert.equal(await Deno.readTextFile(`${w.root}/${name}`), name);
    }
  } finally {
    await w.close();
  }
});
