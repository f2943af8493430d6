import assert from "node:assert/strict";
import { fileAudit, filesWorld, json, ownedDir, ownedFile } from "./_files_fixture.ts";

const OLD = "the old content\n".repeat(1000);

async function run(cmd: string, args: string[]): Promise<boolean> {
  const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output();
  return out.success;
}

Deno.test("files: an edit that cannot be written (disk full) leaves the old content and no temp file", async () => {
  let mounted = "";
  const w = await filesWorld({
    env: { CLAWORC_MAX_BODY_BYTES: String(8 << 20) },
    beforeSshd: async (root, owner) => {
      // A 1 MiB file system, mounted before sshd starts so its private mount namespace sees it.
      const small = await ownedDir(`${root}/small`, owner);
      if (
        !await run("mount", [
          "-t",
          "tmpfs",
          "-o",
          `size=1m,uid=${owner.uid},gid=${owner.gid},mode=0755`,
          "tmpfs",
          small,
        ])
      ) {
        throw new Error("cannot mount a tmpfs here (the test needs root)");
      }
      mounted = small;
      await ownedFile(`${small}/notes.txt`, OLD, owner);
    },
  });
  try {
    const { t, base } = w;
    const path = `${mounted}/notes.txt`;
    const res = await t.request("POST", `${base}/create`, {
      cookie: w.admin,
      body: { path, content: "x".repeat(3 * 1024 * 1024) },
    });
    assert.ok(res.status >= 400, `${res.status} ${await res.text()}`);
    assert.equal(await Deno.readTextFile(path), OLD, "old content intact");
    assert.deepEqual([...Deno.readDirSync(mounted)].map((e) => e.name), ["notes.txt"], "temp file removed");
    const failed = fileAudit(w, "create")[0];
    assert.equal(failed.outcome, "failure");
    assert.equal(failed.details.path, path);
    assert.equal(failed.details.size, 3 * 1024 * 1024);

    // A write that fits still replaces the content in one step.
    await json(await t.request("POST", `${base}/create`, { cookie: w.admin, body: { path, content: "new" } }));
    assert.equal(await Deno.readTextFile(path), "new");
  } finally {
    await w.close();
    if (mounted) await run("umount", [mounted]);
    await Deno.remove(w.root, { recursive: true }).catch(() => {});
  }
});

Deno.test("files: an edit in a folder the login user cannot write is refused and changes nothing", async () => {
  const w = await filesWorld();
  try {
    const { t, base, root, owner } = w;
    const locked = await ownedDir(`${root}/locked`, owner);
    await ownedFile(`${locked}/notes.txt`, OLD, owner);
    await Deno.chmod(locked, 0o555);
    const res = await t.request("POST", `${base}/create`, {
      cookie: w.admin,
      body: { path: `${locked}/notes.txt`, content: "x" },
    });
    assert.equal((await json(res, 403)).code, "FORBIDDEN");
    assert.equal(await Deno.readTextFile(`${locked}/notes.txt`), OLD);
    assert.deepEqual([...Deno.readDirSync(locked)].map((e) => e.name), ["notes.txt"]);
    await Deno.chmod(locked, 0o755);
  } finally {
    await w.close();
  }
});
