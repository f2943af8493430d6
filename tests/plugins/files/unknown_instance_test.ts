import assert from "node:assert/strict";
import { filesWorld, json, q, send } from "./_files_fixture.ts";

Deno.test("files: an instance id that does not exist is a 404 INSTANCE_NOT_FOUND on every route", async () => {
  const w = await filesWorld();
  try {
    const { t, root } = w;
    const base = `/api/v1/instances/${w.instanceId + 1000}/files`;
    const calls: [string, string, Record<string, unknown>][] = [
      ["GET", `${base}/browse`, {}],
      ["GET", `${base}/read?${q(`${root}/a.txt`)}`, {}],
      ["GET", `${base}/download?${q(`${root}/a.txt`)}`, {}],
      ["POST", `${base}/create`, { body: { path: `${root}/x.txt`, content: "x" } }],
      ["POST", `${base}/mkdir`, { body: { path: `${root}/d` } }],
      ["POST", `${base}/rename`, { body: { old_path: `${root}/a.txt`, new_path: `${root}/b.txt` } }],
      ["DELETE", `${base}?${q(`${root}/a.txt`)}`, {}],
    ];
    for (const [method, path, opts] of calls) {
      const res = await t.request(method, path, { cookie: w.admin, ...opts });
      assert.equal((await json(res, 404)).code, "INSTANCE_NOT_FOUND", `${method} ${path}`);
    }
    const up = await send(w, "POST", `${base}/upload?${q(root)}&name=x.txt`, { body: "x" });
    assert.equal((await json(up, 404)).code, "INSTANCE_NOT_FOUND");
  } finally {
    await w.close(); // also proves no connection attempt was left for an instance that does not exist
  }
});
