import assert from "node:assert/strict";
import { fileAudit, filesWorld, json, ownedDir, ownedFile, q } from "./_files_fixture.ts";

/** The default roots nest (`/home/agent` and `/home/agent/workspace`); this world does the same. */
const nested = { rootsOf: (root: string) => [root, `${root}/workspace`] };

Deno.test("files: a nested root that was deleted on the instance can be made again with mkdir", async () => {
  const w = await filesWorld(nested);
  try {
    const { t, base, root } = w;
    const made = await json(
      await t.request("POST", `${base}/mkdir`, { cookie: w.admin, body: { path: `${root}/workspace` } }),
    );
    assert.equal(made.success, true);
    assert.ok((await Deno.stat(`${root}/workspace`)).isDirectory);
    assert.equal(fileAudit(w, "mkdir")[0].details.created, 1);
    // Now it exists, it is a root again: listed, and not deletable.
    const listing = await json(await t.request("GET", `${base}/browse`, { cookie: w.admin }));
    assert.deepEqual(listing.roots, [root, `${root}/workspace`]);
    await json(await t.request("DELETE", `${base}?${q(`${root}/workspace`)}`, { cookie: w.admin }), 403);
    // mkdir on an existing root is a no-op; on a missing top-level root it is still a 404.
    await json(await t.request("POST", `${base}/mkdir`, { cookie: w.admin, body: { path: `${root}/workspace` } }));
  } finally {
    await w.close();
  }
});

Deno.test("files: mkdir of a missing root that no other root contains is a 404 and creates nothing", async () => {
  const w = await filesWorld({
    rootsOf: (root) => [`${root}/a`, `${root}/b`],
    beforeSshd: (root, owner) => ownedDir(`${root}/a`, owner).then(() => {}),
  });
  try {
    const { t, base, root } = w;
    await json(await t.request("POST", `${base}/mkdir`, { cookie: w.admin, body: { path: `${root}/b` } }), 404);
    await assert.rejects(Deno.stat(`${root}/b`), Deno.errors.NotFound);
  } finally {
    await w.close();
  }
});

Deno.test("files: browse lists only the roots that exist and opens the first of them by default", async () => {
  const w = await filesWorld({
    rootsOf: (root) => [`${root}/gone`, `${root}/here`, `${root}/here/workspace`],
    beforeSshd: (root, owner) => ownedDir(`${root}/here`, owner).then(() => {}),
  });
  try {
    const { t, base, root } = w;
    const listing = await json(await t.request("GET", `${base}/browse`, { cookie: w.admin }));
    assert.equal(listing.path, `${root}/here`);
    assert.deepEqual(listing.roots, [`${root}/here`]);
    await ownedDir(`${root}/here/workspace`, w.owner);
    const again = await json(await t.request("GET", `${base}/browse`, { cookie: w.admin }));
    assert.deepEqual(again.roots, [`${root}/here`, `${root}/here/workspace`]);
  } finally {
    await w.close();
  }
});

Deno.test("files: a folder that holds a nested root can be neither deleted nor moved; its other content can", async () => {
  const w = await filesWorld({
    rootsOf: (root) => [root, `${root}/projects/current`],
    beforeSshd: async (root, owner) => {
      await ownedDir(`${root}/projects`, owner);
      await ownedDir(`${root}/projects/current`, owner);
      await ownedFile(`${root}/projects/current/work.txt`, "work", owner);
      await ownedFile(`${root}/projects/old.txt`, "old", owner);
    },
  });
  try {
    const { t, base, root } = w;
    const del = await t.request("DELETE", `${base}?${q(`${root}/projects`)}&recursive=true`, { cookie: w.admin });
    assert.equal((await json(del, 403)).code, "FORBIDDEN");
    const move = await t.request("POST", `${base}/rename`, {
      cookie: w.admin,
      body: { old_path: `${root}/projects`, new_path: `${root}/archive` },
    });
    assert.equal((await json(move, 403)).code, "FORBIDDEN");
    assert.equal(await Deno.readTextFile(`${root}/projects/current/work.txt`), "work");
    assert.deepEqual(fileAudit(w, "delete").map((e) => e.outcome), ["denied"]);
    await json(await t.request("DELETE", `${base}?${q(`${root}/projects/old.txt`)}`, { cookie: w.admin }));
    await json(
      await t.request("POST", `${base}/rename`, {
        cookie: w.admin,
        body: { old_path: `${root}/projects/current/work.txt`, new_path: `${root}/work.txt` },
      }),
    );
  } finally {
    await w.close();
  }
});
