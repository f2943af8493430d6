import assert from "node:assert/strict";
import { fileAudit, filesWorld, json, multipart, ownedDir, ownedFile, q, send } from "./_files_fixture.ts";

/**
 * The traversal corpus: every path here must be refused with 400 or 403 and leave the file outside
 * the root (and the root itself) exactly as it was, whatever the operation.
 */
Deno.test("files: traversal, absolute escapes, escaping symlinks, NUL bytes and long names are refused untouched", async () => {
  const w = await filesWorld();
  try {
    const { t, base, root, outside, owner } = w;
    await ownedFile(`${outside}/secret.txt`, "outside secret", owner);
    await ownedDir(`${outside}/dir`, owner);
    await ownedFile(`${root}/inside.txt`, "inside", owner);
    await Deno.symlink(`${outside}/secret.txt`, `${root}/escape-file`);
    await Deno.symlink(outside, `${root}/escape-dir`);
    await Deno.symlink("../" + outside.split("/").pop(), `${root}/escape-relative`);
    const before = new Map<string, string>();
    const snapshot = async () => {
      const out = new Map<string, string>();
      for (const dir of [outside, `${outside}/dir`, root]) {
        for (const e of Deno.readDirSync(dir)) {
          const p = `${dir}/${e.name}`;
          const st = await Deno.lstat(p);
          out.set(p, `${st.mode}:${st.size}:${st.mtime?.getTime()}:${e.isFile ? await Deno.readTextFile(p) : ""}`);
        }
      }
      return out;
    };
    for (const [k, v] of await snapshot()) before.set(k, v);

    const long = "a".repeat(256);
    const corpus = [
      `${root}/../${outside.split("/").pop()}/secret.txt`,
      `${root}/..`,
      `${root}/./../..`,
      "../secret.txt",
      "secret.txt",
      `${outside}/secret.txt`,
      outside,
      "/etc/passwd",
      "/",
      `${root}/escape-file`,
      `${root}/escape-dir/secret.txt`,
      `${root}/escape-dir`,
      `${root}/escape-relative/secret.txt`,
      `${root}/inside.txt\0.png`,
      `${root}/\0`,
      `${root}/${long}`,
      `${root}/${"d/".repeat(2100)}x`,
      root.slice(0, -1), // a sibling that shares the root's prefix
      `${root}x/secret.txt`,
    ];
    const refused = (status: number) => status === 400 || status === 403;
    for (const path of corpus) {
      const shown = JSON.stringify(path.slice(0, 80));
      const attempts: [string, string, Record<string, unknown>?][] = [
        ["GET", `${base}/browse?${q(path)}`],
        ["GET", `${base}/read?${q(path)}`],
        ["GET", `${base}/download?${q(path)}`],
        ["POST", `${base}/create`, { body: { path, content: "pwned" } }],
        ["POST", `${base}/mkdir`, { body: { path: `${path}/new` } }],
        ["POST", `${base}/rename`, { body: { old_path: path, new_path: `${root}/taken` } }],
        ["POST", `${base}/rename`, { body: { old_path: `${root}/inside.txt`, new_path: path } }],
        ["DELETE", `${base}?${q(path)}&recursive=true`],
      ];
      // A link inside the root is itself inside: renaming or deleting it acts on the link (checked below).
      const isLink = /\/escape-[a-z]+$/.test(path);
      for (const [method, url, opts] of attempts) {
        if (isLink && (method === "DELETE" || (opts?.body as { old_path?: string })?.old_path === path)) continue;
        const res = await t.request(method, url, { cookie: w.admin, ...opts });
        const body = await res.text();
        // A name-only mistake on a path inside the root can be a 404 (the parent is missing), never a 2xx.
        // Renaming onto an existing link is refused as a name clash (409): the link is not replaced.
        const ok = refused(res.status) || (isLink && res.status === 409 && url.endsWith("/rename"));
        assert.ok(ok, `${method} ${shown} (${url.split("?")[0]}): ${res.status} ${body}`);
        assert.ok(!body.includes("outside secret"));
      }
      const form = multipart([{ name: "pwned.txt", data: new TextEncoder().encode("pwned") }]);
      const up = await send(w, "POST", `${base}/upload?${q(path)}`, {
        body: form.body,
        headers: { "content-type": form.contentType },
      });
      assert.ok(refused(up.status), `upload into ${shown}: ${up.status} ${await up.text()}`);
    }

    // Encoded forms, sent raw in the query (the server decodes once): encoded and double-encoded dots and
    // slashes, backslashes, full-width dots, overlong UTF-8, encoded NUL. None may read outside the root;
    // a form that decodes to a literal odd name inside the root may be a 404.
    const out = outside.split("/").pop();
    const encoded = [
      `${root}/%2e%2e/${out}/secret.txt`,
      `${root}/%2E%2E%2F${out}%2Fsecret.txt`,
      `${root}/..%2f${out}%2fsecret.txt`,
      `${root}/%252e%252e/${out}/secret.txt`,
      `${root}/..%5c${out}%5csecret.txt`,
      `${root}/%EF%BC%8E%EF%BC%8E/${out}/secret.txt`,
      `${root}/%c0%ae%c0%ae/${out}/secret.txt`,
      `${root}/inside.txt%00`,
      `%2f${outside.slice(1).replaceAll("/", "%2f")}%2fsecret.txt`,
      `${root}/./%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd`,
    ];
    for (const raw of encoded) {
      for (const op of ["browse", "read", "download"]) {
        const res = await t.request("GET", `${base}/${op}?path=${raw}`, { cookie: w.admin });
        const body = await res.text();
        assert.ok([400, 403, 404].includes(res.status), `${op} ${raw}: ${res.status} ${body.slice(0, 120)}`);
        assert.ok(!body.includes("outside secret") && !body.includes("root:x:0:0"), `${op} ${raw} leaked`);
      }
    }

    // Upload names that try to leave the folder.
    for (const name of ["../pwned.txt", "..", ".", "a/b", "x\0y", long]) {
      const form = multipart([{ name, data: new TextEncoder().encode("pwned") }]);
      const res = await send(w, "POST", `${base}/upload?${q(root)}`, {
        body: form.body,
        headers: { "content-type": form.contentType },
      });
      assert.equal(res.status, 400, `upload named ${JSON.stringify(name.slice(0, 40))}: ${await res.text()}`);
    }
    const raw = await send(w, "POST", `${base}/upload?${q(root)}&name=${encodeURIComponent("../x")}`, { body: "x" });
    assert.equal(raw.status, 400);

    // The root itself cannot be deleted or moved away.
    await json(await t.request("DELETE", `${base}?${q(root)}&recursive=true`, { cookie: w.admin }), 403);
    await json(
      await t.request("POST", `${base}/rename`, { cookie: w.admin, body: { old_path: root, new_path: `${root}/x` } }),
      403,
    );

    // Nothing changed on either side, and the links are still links.
    assert.deepEqual(await snapshot(), before);
    assert.ok((await Deno.lstat(`${root}/escape-dir`)).isSymlink);

    // Deleting an escaping link (even recursively) removes the link only, never what it points to.
    await json(await t.request("DELETE", `${base}?${q(`${root}/escape-dir`)}&recursive=true`, { cookie: w.admin }));
    await json(await t.request("DELETE", `${base}?${q(`${root}/escape-file`)}`, { cookie: w.admin }));
    await assert.rejects(Deno.lstat(`${root}/escape-dir`), Deno.errors.NotFound);
    assert.equal(await Deno.readTextFile(`${outside}/secret.txt`), "outside secret");
    assert.ok((await Deno.stat(`${outside}/dir`)).isDirectory);

    // The refusals were audited as denied, with the path as sent.
    const denied = ["browse", "read", "download", "create", "mkdir", "rename", "delete", "upload"]
      .flatMap((op) => fileAudit(w, op)).filter((e) => e.outcome === "denied");
    assert.ok(denied.length >= corpus.length * 8, `${denied.length} denied entries`);
    assert.ok(denied.some((e) => e.details.path === `${outside}/secret.txt`));
  } finally {
    await w.close();
  }
});

Deno.test("files: a root that is itself a symlink counts as its target; what lies beside it stays out", async () => {
  const w = await filesWorld({
    rootsOf: (root) => [`${root}/alias`],
    beforeSshd: async (root, owner) => {
      await ownedDir(`${root}/real`, owner);
      await ownedFile(`${root}/real/a.txt`, "a", owner);
      await ownedFile(`${root}/beside.txt`, "beside", owner);
      await Deno.symlink(`${root}/real`, `${root}/alias`);
    },
  });
  try {
    const { t, base, root } = w;
    const listing = await json(await t.request("GET", `${base}/browse`, { cookie: w.admin }));
    assert.equal(listing.path, `${root}/real`, "reported as resolved on the instance");
    assert.deepEqual(listing.roots, [`${root}/real`]);
    for (const path of [`${root}/alias/a.txt`, `${root}/real/a.txt`]) {
      assert.equal((await json(await t.request("GET", `${base}/read?${q(path)}`, { cookie: w.admin }))).content, "a");
    }
    for (const path of [`${root}/beside.txt`, `${root}/alias/../beside.txt`, root]) {
      const res = await t.request("GET", `${base}/read?${q(path)}`, { cookie: w.admin });
      assert.ok(res.status === 400 || res.status === 403, `${path}: ${res.status}`);
    }
    await json(await t.request("DELETE", `${base}?${q(`${root}/alias`)}`, { cookie: w.admin }), 403);
  } finally {
    await w.close();
  }
});
