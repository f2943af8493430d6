import assert from "node:assert/strict";
import type { SshEndpoint } from "../../../core/mod.ts";
import { authorizedLine } from "../../../core/ssh/authorized_line.ts";
import { builtinPlugins } from "../../../plugins/mod.ts";
import { terminalPlugin } from "../../../plugins/terminal/mod.tsx";
import { defaultSession, type SessionInfo } from "../../../plugins/terminal/sessions_api.ts";
import { ORIGIN, type TestApp, testApp } from "../../_helpers/harness.ts";
import { fixedBackend } from "../../harness/fixed_backend.ts";
import { until } from "../../harness/pool.ts";
import { type Sshd, startSshd, TEST_USER } from "../../harness/sshd.ts";
import { TermClient } from "./_ws_client.ts";

/**
 * An app with the terminal plugin whose one instance is a real OpenSSH sshd (tmux on its own socket
 * folder), served over HTTP for WebSockets; deleting the instance takes `removeMs` in the backend.
 */
async function world(removeMs = 300) {
  const endpoints = new Map<string, SshEndpoint>();
  const backend = fixedBackend(endpoints, { removeDelayMs: removeMs });
  const t = await testApp({}, [...builtinPlugins().filter((p) => p.name !== "terminal"), backend, terminalPlugin()]);
  const tmuxDir = `/tmp/claworc-term-sessions-${crypto.randomUUID().slice(0, 8)}`;
  let sshd: Sshd | undefined;
  let server: Deno.HttpServer<Deno.NetAddr> | undefined;
  const clients: TermClient[] = [];
  const close = async () => {
    for (const c of clients) c.close();
    await server?.shutdown();
    await t.close();
    await sshd?.close();
    await Deno.remove(tmuxDir, { recursive: true }).catch(() => {});
  };
  try {
    sshd = await startSshd({
      authorizedKeys: [authorizedLine(t.services.sshKeys.publicKey, t.services.ssh.targets)],
      extraConfig: `SetEnv TMUX_TMPDIR=${tmuxDir}`,
    });
    const out = await new Deno.Command("id", { args: ["-u", TEST_USER], stdout: "piped" }).output();
    const uid = Number(new TextDecoder().decode(out.stdout).trim());
    await Deno.mkdir(tmuxDir, { mode: 0o700 });
    await Deno.chown(tmuxDir, uid, null);
    endpoints.set("bot-a", { host: sshd.host, port: sshd.port, username: sshd.user });
    const id = t.services.instances.insert("bot-a", "A").id;
    const admin = await t.setupAdmin();
    const user = async (name: string) => {
      t.services.users.setAssignedInstances(await t.createUser(admin, name), [id]);
      return await t.login(name, `${name}-password-1`);
    };
    const s = server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req, i) => t.app.fetch(req, i));
    const open = (query: string, cookie: string) => {
      const url = `ws://127.0.0.1:${s.addr.port}/api/v1/instances/${id}/terminal?${query}`;
      const c = new TermClient(url, { cookie, origin: ORIGIN });
      clients.push(c);
      return c;
    };
    /** A socket that got its `session` frame. */
    const attach = async (query: string, cookie: string) => {
      const c = open(query, cookie);
      await until(() => c.frames("session").length === 1 || c.closed !== null, 20_000, "the session frame");
      assert.equal(c.frames("session").length, 1, `attached (${JSON.stringify(c.closed)})`);
      return c;
    };
    return { t: t as TestApp, id, admin, user, open, attach, close };
  } catch (e) {
    await close();
    throw e;
  }
}

Deno.test({
  name: "terminal: closing an attached session ends its sockets with 4004 and who closed it",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const w = await world();
    try {
      const bob = await w.user("bob");
      const a = await w.attach("session_id=work", bob);
      const b = await w.attach("session_id=work", bob);
      const other = await w.attach("session_id=ops", w.admin);

      const del = await w.t.request("DELETE", `/api/v1/instances/${w.id}/terminal/sessions/work`, { cookie: bob });
      assert.equal(del.status, 204);
      await until(() => a.closed !== null && b.closed !== null, 10_000, "both sockets of the session to close");
      // 4004 is final in the island (no reattach to a session that is gone), and the reason says why.
      assert.deepEqual(a.closed, { code: 4004, reason: "The session was closed by bob." });
      assert.deepEqual(b.closed, { code: 4004, reason: "The session was closed by bob." });
      assert.deepEqual(a.frames("exit"), [{ type: "exit", code: null, session_ended: true }], "the session is gone");
      assert.equal(other.closed, null, "another session's socket stays");

      // An admin closing another user's attached session: the same, naming the admin.
      const c = await w.attach("session_id=again", bob);
      const byAdmin = await w.t.request("DELETE", `/api/v1/instances/${w.id}/terminal/sessions/again`, {
        cookie: w.admin,
      });
      assert.equal(byAdmin.status, 204);
      await until(() => c.closed !== null, 10_000, "the socket to close");
      assert.deepEqual(c.closed, { code: 4004, reason: "The session was closed by admin." });
      const closes = w.t.services.audit.query({ action: "terminal.close", limit: 20, offset: 0 }).entries
        .filter((e) => e.details.reason === "closed by request").map((e) => [e.actor, e.details.session_id]);
      assert.deepEqual(closes, [["admin", "again"], ["bob", "work"]]);
    } finally {
      await w.close();
    }
  },
});

Deno.test({
  name: "terminal: a refused attach to another user's session is audited with session_id",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const w = await world();
    try {
      const bob = await w.user("bob");
      const carol = await w.user("carol");
      await w.attach("session_id=main", bob);
      const refused = w.open("session_id=main", carol);
      await until(() => refused.closed !== null, 10_000, "the refused socket to fail");
      assert.equal(refused.opened, false);
      const denied = w.t.services.audit.query({ action: "terminal.open", limit: 20, offset: 0 }).entries
        .filter((e) => e.outcome === "denied");
      // The same detail key as every other terminal entry, so a search by session finds refusals too.
      assert.deepEqual(denied.map((e) => [e.actor, e.details]), [["carol", { session_id: "main" }]]);
    } finally {
      await w.close();
    }
  },
});

Deno.test({
  name: "terminal: deleting the instance ends its sockets with 4003, not a detach the browser retries",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const w = await world(500);
    try {
      const a = await w.attach("session_id=main", w.admin);
      const del = await w.t.request("DELETE", `/api/v1/instances/${w.id}`, { cookie: w.admin });
      assert.equal(del.status, 204, await del.clone().text());
      await until(() => a.closed !== null, 10_000, "the socket to close");
      // 1011 with `session_ended: false` tells the island to reattach, forever, to an instance that is gone.
      assert.deepEqual(a.closed, { code: 4003, reason: "The instance was deleted." });
      assert.deepEqual(a.frames("exit"), []);
    } finally {
      await w.close();
    }
  },
});

Deno.test({
  name: "terminal: each user's default session is one they may attach to (ids are shared per instance)",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const w = await world();
    try {
      const bob = await w.user("bob");
      const carol = await w.user("carol");
      const sessions = async (cookie: string) => {
        const res = await w.t.request("GET", `/api/v1/instances/${w.id}/terminal/sessions`, { cookie });
        assert.equal(res.status, 200);
        return await res.json() as { sessions: { session_id: string }[]; default_session?: string };
      };
      /** What the Terminal tab opens first: the default, as the island picks it (before: the first listed, or "main"). */
      const tabOpens = async (cookie: string) => {
        const r = await sessions(cookie);
        return r.default_session ?? r.sessions[0]?.session_id ?? "main";
      };
      const first = await tabOpens(bob);
      assert.equal(first, "main");
      await w.attach(`session_id=${first}`, bob);
      // Carol's list is empty (she sees only her own), yet "main" is Bob's: her tab must not open it.
      const hers = await tabOpens(carol);
      assert.notEqual(hers, "main");
      const c = await w.attach(`session_id=${hers}`, carol);
      assert.equal(c.frames("session")[0].created, true);
      // An admin lists everyone's sessions but may attach to their own only.
      const admins = await tabOpens(w.admin);
      assert.ok(!["main", hers].includes(admins), admins);
      await w.attach(`session_id=${admins}`, w.admin);
      // Once a user has sessions, the default is their own oldest one.
      assert.equal((await sessions(bob)).default_session, "main");
      assert.equal((await sessions(carol)).default_session, hers);
    } finally {
      await w.close();
    }
  },
});

Deno.test("terminal: the default session name skips names other users hold", () => {
  const row = (session_id: string, owner_id: number): SessionInfo => ({
    session_id,
    owner_id,
    owner: null,
    attached: false,
    created_at: "",
    last_activity_at: "",
    detached_at: null,
  });
  assert.equal(defaultSession([], 7), "main");
  assert.equal(defaultSession([row("main", 2)], 7), "main-7");
  assert.equal(defaultSession([row("main", 2), row("main-7", 3), row("main-7-2", 4)], 7), "main-7-3");
  assert.equal(defaultSession([row("main", 2), row("x", 7), row("y", 7)], 7), "x");
});
