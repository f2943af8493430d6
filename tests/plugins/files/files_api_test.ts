import assert from "node:assert/strict";
import { fileAudit, filesWorld, json, multipart, ownedDir, ownedFile, q, send } from "./_files_fixture.ts";

/** Every byte value, twice, in a scrambled order. */
const ALL_BYTES = new Uint8Array(512).map((_, i) => (i * 167 + 13) & 0xff);
const ODD_NAME = `it's "quoted" — naïve 文件 ✓.bin`;

Deno.test("files: list, read, download, upload, create, mkdir, rename, delete over SFTP, byte-exact and audited", async () => {
  const w = await filesWorld();
  try {
    const { t, base, root, owner } = w;
    await ownedFile(`${root}/hello.txt`, "hello\nworld\n", owner);
    await ownedFile(`${root}/bytes.bin`, ALL_BYTES, owner);
    await ownedDir(`${root}/sub`, owner);
    await Deno.symlink("hello.txt", `${root}/link.txt`);

    // Browse: the root by default, with type, size, mode, mtime and symlink target.
    const listing = await json(await t.request("GET", `${base}/browse`, { cookie: w.admin }));
    assert.equal(listing.path, root);
    assert.deepEqual(listing.roots, [root]);
    assert.deepEqual(listing.entries.map((e: { name: string }) => e.name), [
      "sub",
      "bytes.bin",
      "hello.txt",
      "link.txt",
    ]);
    const byName = Object.fromEntries(listing.entries.map((e: { name: string }) => [e.name, e]));
    assert.equal(byName.sub.type, "directory");
    assert.equal(byName.sub.size, null);
    assert.equal(byName["hello.txt"].type, "file");
    assert.equal(byName["hello.txt"].size, 12);
    assert.equal(byName["hello.txt"].mode, (await Deno.stat(`${root}/hello.txt`)).mode! & 0o7777);
    assert.match(byName["hello.txt"].permissions, /^-[rwx-]{9}$/);
    assert.equal(
      byName["hello.txt"].mtime,
      new Date(Math.floor((await Deno.stat(`${root}/hello.txt`)).mtime!.getTime() / 1000) * 1000).toISOString(),
    );
    assert.equal(byName["link.txt"].type, "symlink");
    assert.equal(byName["link.txt"].target, "hello.txt");
    assert.equal(byName["link.txt"].target_type, "file");

    // Read: text as UTF-8, anything else as base64; both exact.
    const text = await json(await t.request("GET", `${base}/read?${q(`${root}/hello.txt`)}`, { cookie: w.admin }));
    assert.equal(text.content, "hello\nworld\n");
    assert.equal(text.encoding, "utf-8");
    const bin = await json(await t.request("GET", `${base}/read?${q(`${root}/bytes.bin`)}`, { cookie: w.admin }));
    assert.equal(bin.encoding, "base64");
    assert.deepEqual(new Uint8Array(atob(bin.content).split("").map((c) => c.charCodeAt(0))), ALL_BYTES);

    // Upload two files in one request (one binary with an awkward name), then download both.
    const form = multipart([{ name: ODD_NAME, data: ALL_BYTES }, {
      name: "two.txt",
      data: new TextEncoder().encode("2"),
    }]);
    const up = await json(
      await send(w, "POST", `${base}/upload?${q(`${root}/sub`)}`, {
        body: form.body,
        headers: { "content-type": form.contentType },
      }),
    );
    assert.equal(up.success, true);
    assert.deepEqual(up.files.map((f: { filename: string }) => f.filename), [ODD_NAME, "two.txt"]);
    assert.deepEqual(await Deno.readFile(`${root}/sub/${ODD_NAME}`), ALL_BYTES);
    assert.equal(await Deno.readTextFile(`${root}/sub/two.txt`), "2");
    assert.equal((await Deno.stat(`${root}/sub/two.txt`)).uid, owner.uid, "written as the login user");
    const leftovers = [...Deno.readDirSync(`${root}/sub`)].filter((e) => e.name.includes("claworc-"));
    assert.deepEqual(leftovers, [], "no temp file left behind");

    const dl = await send(w, "GET", `${base}/download?${q(`${root}/sub/${ODD_NAME}`)}`);
    assert.equal(dl.status, 200);
    assert.equal(dl.headers.get("content-type"), "application/octet-stream");
    assert.equal(dl.headers.get("content-length"), String(ALL_BYTES.length));
    const disposition = dl.headers.get("content-disposition")!;
    assert.match(disposition, /^attachment; filename="[\x20-\x7e]+"; filename\*=UTF-8''/);
    const fallback = /filename="([^"]*)"/.exec(disposition)![1];
    assert.ok(!/["\\]/.test(fallback), "the ASCII fallback cannot break out of its quotes");
    assert.equal(decodeURIComponent(/filename\*=UTF-8''(.+)$/.exec(disposition)![1]), ODD_NAME);
    assert.deepEqual(new Uint8Array(await dl.arrayBuffer()), ALL_BYTES);

    // A raw (non-multipart) upload with ?name=.
    const raw = await send(w, "POST", `${base}/upload?${q(root)}&name=raw.bin`, { body: ALL_BYTES.slice(0, 256) });
    assert.equal((await json(raw)).path, `${root}/raw.bin`);
    assert.deepEqual(await Deno.readFile(`${root}/raw.bin`), ALL_BYTES.slice(0, 256));

    // Create (atomic) keeps an existing file's mode; exclusive refuses to replace.
    await Deno.chmod(`${root}/hello.txt`, 0o640);
    const created = await json(
      await t.request("POST", `${base}/create`, {
        cookie: w.admin,
        body: { path: `${root}/hello.txt`, content: "ny ✓" },
      }),
    );
    assert.equal(created.path, `${root}/hello.txt`);
    assert.equal(await Deno.readTextFile(`${root}/hello.txt`), "ny ✓");
    assert.equal((await Deno.stat(`${root}/hello.txt`)).mode! & 0o777, 0o640);
    await json(
      await t.request("POST", `${base}/create`, {
        cookie: w.admin,
        body: { path: `${root}/hello.txt`, content: "x", exclusive: true },
      }),
      409,
    );
    // Editing through a link edits its target (inside the root), the link stays a link.
    await json(
      await t.request("POST", `${base}/create`, {
        cookie: w.admin,
        body: { path: `${root}/link.txt`, content: "via link" },
      }),
    );
    assert.equal(await Deno.readTextFile(`${root}/hello.txt`), "via link");
    assert.ok((await Deno.lstat(`${root}/link.txt`)).isSymlink);
    // Binary content through base64.
    await json(
      await t.request("POST", `${base}/create`, {
        cookie: w.admin,
        body: { path: `${root}/new.bin`, content: btoa(String.fromCharCode(...ALL_BYTES)), encoding: "base64" },
      }),
    );
    assert.deepEqual(await Deno.readFile(`${root}/new.bin`), ALL_BYTES);

    // mkdir -p, rename (never over an existing name), delete (recursive only when asked).
    await json(await t.request("POST", `${base}/mkdir`, { cookie: w.admin, body: { path: `${root}/a/b/c` } }));
    assert.ok((await Deno.stat(`${root}/a/b/c`)).isDirectory);
    // Answered (and audited) as the path it is, like the other routes: not as the client spelt it.
    const again = await json(
      await t.request("POST", `${base}/mkdir`, { cookie: w.admin, body: { path: `${root}//a/./b/c/` } }),
      200,
    );
    assert.equal(again.path, `${root}/a/b/c`);
    assert.equal(fileAudit(w, "mkdir")[0].details.path, `${root}/a/b/c`);
    await json(
      await t.request("POST", `${base}/rename`, {
        cookie: w.admin,
        body: { old_path: `${root}/new.bin`, new_path: `${root}/a/moved.bin` },
      }),
    );
    assert.deepEqual(await Deno.readFile(`${root}/a/moved.bin`), ALL_BYTES);
    await json(
      await t.request("POST", `${base}/rename`, {
        cookie: w.admin,
        body: { old_path: `${root}/raw.bin`, new_path: `${root}/a/moved.bin` },
      }),
      409,
    );
    await json(
      await t.request("POST", `${base}/rename`, {
        cookie: w.admin,
        body: { old_path: `${root}/a`, new_path: `${root}/a/b/c/a` },
      }),
      400,
    );
    await json(await t.request("DELETE", `${base}?${q(`${root}/a`)}`, { cookie: w.admin }), 409);
    const removed = await json(
      await t.request("DELETE", `${base}?${q(`${root}/a`)}&recursive=true`, { cookie: w.admin }),
    );
    assert.deepEqual([removed.files, removed.folders], [1, 3]);
    await assert.rejects(Deno.stat(`${root}/a`), Deno.errors.NotFound);
    await json(await t.request("DELETE", `${base}?${q(`${root}/link.txt`)}`, { cookie: w.admin }));
    assert.equal(await Deno.readTextFile(`${root}/hello.txt`), "via link", "deleting a link leaves its target");
    await json(await t.request("GET", `${base}/read?${q(`${root}/gone.txt`)}`, { cookie: w.admin }), 404);

    // Every operation left audit entries with path, size, actor and outcome.
    for (const op of ["browse", "read", "download", "upload", "create", "mkdir", "rename", "delete"]) {
      const entries = fileAudit(w, op);
      assert.ok(entries.length > 0, `file.${op} audited`);
      for (const e of entries) {
        assert.equal(e.actor, "admin");
        assert.equal(e.instance_id, w.instanceId);
        assert.ok(typeof e.details.path === "string" && e.details.path.startsWith(root), `${op}: ${e.details.path}`);
        assert.equal(e.target, e.details.path);
      }
    }
    const download = fileAudit(w, "download")[0];
    assert.deepEqual([download.outcome, download.details.size], ["success", ALL_BYTES.length]);
    const uploads = fileAudit(w, "upload").filter((e) => e.outcome === "success").map((e) => e.details);
    assert.ok(uploads.some((d) => d.path === `${root}/sub/${ODD_NAME}` && d.size === ALL_BYTES.length));
    assert.equal(fileAudit(w, "read").find((e) => e.outcome === "failure")?.details.path, `${root}/gone.txt`);
    assert.equal(fileAudit(w, "rename").filter((e) => e.outcome !== "success").length, 2);
  } finally {
    await w.close();
  }
});

Deno.test("files: a user not assigned to the instance gets 403 on every route; an assigned one gets through", async () => {
  const w = await filesWorld();
  try {
    const { t, base, root } = w;
    await ownedFile(`${root}/secret.txt`, "s", w.owner);
    const uid = await t.createUser(w.admin, "uma");
    const uma = await t.login("uma", "uma-password-1");
    const form = multipart([{ name: "x.txt", data: new Uint8Array([1]) }]);
    const calls: [string, string, Record<string, unknown>][] = [
      ["GET", `${base}/browse`, {}],
      ["GET", `${base}/read?${q(`${root}/secret.txt`)}`, {}],
      ["GET", `${base}/download?${q(`${root}/secret.txt`)}`, {}],
      ["POST", `${base}/create`, { body: { path: `${root}/x.txt`, content: "x" } }],
      ["POST", `${base}/mkdir`, { body: { path: `${root}/d` } }],
      ["POST", `${base}/rename`, { body: { old_path: `${root}/secret.txt`, new_path: `${root}/y.txt` } }],
      ["DELETE", `${base}?${q(`${root}/secret.txt`)}`, {}],
    ];
    for (const [method, path, opts] of calls) {
      const res = await t.request(method, path, { cookie: uma, ...opts });
      assert.equal((await json(res, 403)).code, "FORBIDDEN", `${method} ${path}`);
    }
    const upload = await send(w, "POST", `${base}/upload?${q(root)}`, {
      cookie: uma,
      body: form.body,
      headers: { "content-type": form.contentType },
    });
    await json(upload, 403);
    assert.deepEqual([...Deno.readDirSync(root)].map((e) => e.name), ["secret.txt"], "nothing changed");
    assert.equal((await t.request("GET", `${base}/browse`)).status, 401, "anonymous");

    await json(
      await t.request("PUT", `/api/v1/users/${uid}/instances`, {
        cookie: w.admin,
        body: { instance_ids: [w.instanceId] },
      }),
    );
    const listing = await json(await t.request("GET", `${base}/browse`, { cookie: uma }));
    assert.deepEqual(listing.entries.map((e: { name: string }) => e.name), ["secret.txt"]);
    assert.equal(fileAudit(w, "browse")[0].actor, "uma");
  } finally {
    await w.close();
  }
});

Deno.test("files: the Files tab renders the file manager island for the instance", async () => {
  const w = await filesWorld();
  try {
    const res = await w.t.request("GET", `/instances/${w.instanceId}/files`, { cookie: w.admin });
    const html = await res.text();
    assert.equal(res.status, 200, html.slice(0, 300));
    assert.match(html, /data-island="file_manager"/);
    assert.match(html, /\/static\/build\/file_manager\.js/);
    assert.match(html, />Files</);
  } finally {
    await w.close();
  }
});
