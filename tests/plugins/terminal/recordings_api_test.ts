import assert from "node:assert/strict";
import { join } from "node:path";
import { builtinPlugins } from "../../../plugins/mod.ts";
import { terminalPlugin } from "../../../plugins/terminal/mod.tsx";
import { type TestApp, testApp } from "../../_helpers/harness.ts";
import { until } from "../../harness/pool.ts";

/** Writes a cast file as the terminal would, straight into the data folder. */
async function writeCast(
  dataPath: string,
  instanceId: number,
  id: string,
  user: { id: number; username: string },
  events: unknown[][],
) {
  const dir = join(dataPath, "recordings", String(instanceId));
  await Deno.mkdir(dir, { recursive: true });
  const header = {
    version: 2,
    width: 80,
    height: 24,
    timestamp: Date.UTC(2026, 0, 2, 3, 4, 5) / 1000,
    title: `${user.username} in terminal session x on bot-r`,
    env: { TERM: "xterm-256color", CLAWORC_USER: user.username, CLAWORC_USER_ID: String(user.id) },
  };
  const text = [header, ...events].map((l) => JSON.stringify(l)).join("\n") + "\n";
  const path = join(dir, `${id}.cast`);
  await Deno.writeTextFile(path, text);
  return { path, text };
}

Deno.test("terminal recordings API: list per owner, download, delete (audited), bad ids and links refused", async () => {
  const t = await testApp();
  try {
    const admin = await t.setupAdmin();
    const bobId = await t.createUser(admin, "bob");
    const carolId = await t.createUser(admin, "carol");
    await t.createUser(admin, "plain");
    const { id } = t.services.instances.insert("bot-r", "R");
    t.services.users.setAssignedInstances(bobId, [id]);
    t.services.users.setAssignedInstances(carolId, [id]);
    const bob = await t.login("bob", "bob-password-1");
    const carol = await t.login("carol", "carol-password-1");
    const plain = await t.login("plain", "plain-password-1");
    const base = `/api/v1/instances/${id}/terminal/recordings`;
    const get = (path: string, cookie?: string) => t.request("GET", path, { cookie });
    const del = (path: string, cookie?: string) => t.request("DELETE", path, { cookie });

    const mine = "main-20260102T030405Z-000000a1";
    const bobs = "s-bob-20260102T030406Z-000000b2";
    await writeCast(t.dataPath, id, mine, { id: 1, username: "admin" }, [[0.1, "o", "admin's"]]);
    const bobFile = await writeCast(t.dataPath, id, bobs, { id: bobId, username: "bob" }, [
      [0.25, "o", "$ echo hi\r\n"],
      [1.5, "r", "100x30"],
      [2.75, "o", "hi\r\n"],
    ]);

    const list = async (cookie: string) => {
      const res = await get(base, cookie);
      assert.equal(res.status, 200);
      return (await res.json()).recordings as Record<string, unknown>[];
    };
    const all = await list(admin);
    assert.deepEqual(all.map((r) => r.id), [bobs, mine], "newest first, every user's for an admin");
    assert.deepEqual(all[0], {
      id: bobs,
      session_id: "s-bob",
      user: "bob",
      user_id: bobId,
      started_at: "2026-01-02T03:04:05.000Z",
      bytes: new TextEncoder().encode(bobFile.text).length,
      duration_s: 2.75,
      active: false,
    });
    assert.deepEqual((await list(bob)).map((r) => r.id), [bobs], "a user sees their own only");
    assert.deepEqual(await list(carol), []);
    assert.equal((await get(base, plain)).status, 403, "not assigned to the instance");
    assert.equal((await get(base)).status, 401);
    assert.equal((await get(`/api/v1/instances/999/terminal/recordings`, admin)).status, 404);

    // Download: the file as it is, as an attachment; another user's answers like a missing one.
    for (const cookie of [bob, admin]) {
      const res = await get(`${base}/${bobs}`, cookie);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "application/x-asciicast");
      assert.equal(res.headers.get("content-disposition"), `attachment; filename="${bobs}.cast"`);
      assert.equal(await res.text(), bobFile.text);
    }
    const hidden = await get(`${base}/${bobs}`, carol);
    assert.equal(hidden.status, 404);
    assert.deepEqual(await hidden.json(), { detail: `No recording "${bobs}".`, code: "NOT_FOUND" });
    assert.equal((await get(`${base}/${mine}`, bob)).status, 404);
    assert.equal((await get(`${base}/main-20260102T030405Z-00000000`, admin)).status, 404);

    // Ids not of our making never become paths; a link named like a recording is not followed.
    for (const bad of ["..%2F..%2Fclaworc.db", `${bobs}.cast`, `${bobs}%00`, "main-20260101T000000Z-0000000g", "x"]) {
      for (const [method, cookie] of [["GET", admin], ["DELETE", admin], ["GET", bob]]) {
        const res = await t.request(method, `${base}/${bad}`, { cookie });
        assert.equal(res.status, 400, `${method} ${bad}`);
        const body = await res.json();
        assert.equal(body.code, "BAD_REQUEST");
        assert.match(body.detail, /Invalid recording id/);
      }
    }
    const linkId = "main-20260101T000000Z-0000abcd";
    await Deno.symlink(join(t.dataPath, "claworc.db"), join(t.dataPath, "recordings", String(id), `${linkId}.cast`));
    assert.equal((await get(`${base}/${linkId}`, admin)).status, 404);
    assert.equal((await del(`${base}/${linkId}`, admin)).status, 404);
    assert.ok((await Deno.stat(join(t.dataPath, "claworc.db"))).isFile, "the link's target is untouched");
    assert.ok(!(await list(admin)).some((r) => r.id === linkId));

    // Delete: not someone else's (as a user), one's own, and anyone's as an admin; audited.
    assert.equal((await del(`${base}/${bobs}`, carol)).status, 404);
    assert.equal((await del(`${base}/${bobs}`, plain)).status, 403);
    assert.equal((await del(`${base}/${bobs}`)).status, 401);
    assert.equal((await del(`${base}/${mine}`, bob)).status, 404);
    assert.equal((await del(`${base}/${bobs}`, bob)).status, 204);
    await assert.rejects(Deno.stat(bobFile.path), Deno.errors.NotFound);
    assert.equal((await del(`${base}/${bobs}`, bob)).status, 404, "gone");
    const carols = "c-20260102T030407Z-000000c3";
    await writeCast(t.dataPath, id, carols, { id: carolId, username: "carol" }, []);
    assert.equal((await del(`${base}/${carols}`, admin)).status, 204);
    assert.deepEqual((await list(admin)).map((r) => r.id), [mine]);
    const audit = t.services.audit.query({ action: "terminal.recording.delete", limit: 10, offset: 0 }).entries;
    assert.deepEqual(
      audit.map((e) => [e.actor, e.target, e.details.recording_id, e.details.user]).reverse(),
      [["bob", `instance:${id}`, bobs, "bob"], ["admin", `instance:${id}`, carols, "carol"]],
    );

    // A cross-site delete is refused before anything happens.
    const cross = await t.request("DELETE", `${base}/${mine}`, { cookie: admin, origin: "http://evil.test" });
    assert.equal(cross.status, 403);
    assert.equal((await list(admin)).length, 1);
  } finally {
    await t.close();
  }
});

const exists = (p: string) => Deno.stat(p).then(() => true, () => false);

/** An old, a middle-aged and a recent recording of instance `id` (ages by last write, in days). */
async function aged(t: TestApp, id: number) {
  const cast = async (name: string, days: number) => {
    const user = { id: 1, username: "admin" };
    const { path } = await writeCast(t.dataPath, id, `${name}-20260102T030405Z-00000001`, user, [[1, "o", name]]);
    const at = new Date(t.clock.now() - days * 86_400_000);
    await Deno.utime(path, at, at);
    return path;
  };
  return { old: await cast("old", 31), mid: await cast("mid", 25), recent: await cast("recent", 1) };
}

Deno.test("terminal recordings: the periodic retention pass applies terminal_recording_retention_days", async () => {
  const plugins = [
    ...builtinPlugins().filter((p) => p.name !== "terminal"),
    terminalPlugin({ recordingRetentionIntervalMs: 50 }),
  ];
  const t = await testApp({}, plugins);
  try {
    const { id } = t.services.instances.insert("bot-r", "R");
    const files = await aged(t, id);
    await until(async () => !(await exists(files.old)), 5_000, "the 31-day-old recording to go (default 30 days)");
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(await exists(files.mid) && await exists(files.recent));
  } finally {
    await t.close();
  }
});

Deno.test("terminal recordings: a retention change applies at once; a deleted instance takes its recordings", async () => {
  const t = await testApp(); // the periodic pass is hourly here: only the change can act
  try {
    const admin = await t.setupAdmin();
    const { id } = t.services.instances.insert("bot-r", "R");
    const files = await aged(t, id);
    const res = await t.request("PUT", "/api/v1/settings", {
      cookie: admin,
      body: { terminal_recording_retention_days: 20 },
    });
    assert.equal(res.status, 200);
    await until(async () => !(await exists(files.mid)), 5_000, "the 25-day-old recording to go with 20 days");
    assert.ok(!(await exists(files.old)));
    assert.ok(await exists(files.recent), "a recent recording stays");
    // Its id could be given to a new instance, which must not inherit them.
    t.services.instances.delete(id);
    await until(async () => !(await exists(join(t.dataPath, "recordings", String(id)))), 5_000, "the folder to go");
  } finally {
    await t.close();
  }
});
