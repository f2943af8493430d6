/**
 * Deno's resource table (sockets, files, child processes, fetch bodies, WebSockets, node:crypto cipher
 * state) is not emptied by garbage collection (a stream over a file at best when a collection happens
 * to run), so every long-running path of the control plane must close what it opens. Each test drives
 * one feature through a real server (`Deno.serve` on loopback) against a real OpenSSH sshd as the
 * instance: a warm-up round, then several rounds, after which the table must come back to its size
 * after the warm-up; a failure names the extra entries. Deno.serve keeps a request's own state outside
 * the table, so an endless stream handler is caught by what it holds instead: SSH channels on the
 * instance's connection, listeners on the live-event bus. Each group includes a HEAD request, which
 * Hono answers with the GET handler's response, its body dropped unread.
 */
import assert from "node:assert/strict";
import type { SshEndpoint } from "../../core/mod.ts";
import { authorizedLine } from "../../core/ssh/authorized_line.ts";
import { sshDefaults } from "../../core/ssh/options.ts";
import { filesPlugin } from "../../plugins/files/mod.tsx";
import { logsPlugin } from "../../plugins/logs/mod.tsx";
import { builtinPlugins } from "../../plugins/mod.ts";
import { terminalPlugin } from "../../plugins/terminal/mod.tsx";
import { ORIGIN, type TestApp, testApp } from "../_helpers/harness.ts";
import {
  abandonedHandshake,
  assertHoldsNoMore,
  type Counters,
  type Hold,
  openSshChannels,
  settledHold,
} from "../_helpers/leak_check.ts";
import { fixedBackend } from "../harness/fixed_backend.ts";
import { until } from "../harness/pool.ts";
import { readEvents } from "../harness/sse.ts";
import { type Sshd, startSshd, TEST_USER } from "../harness/sshd.ts";
import { json, multipart, ownedDir, ownedFile, q } from "./files/_files_fixture.ts";
import { eventsNamed, logLines } from "./logs/_events.ts";
import { TermClient } from "./terminal/_ws_client.ts";

const ROUNDS = 5;
/** How long the table may take to shrink back after a group (closes complete asynchronously). */
const SETTLE_MS = 5_000;
/** Longest wait for anything the instance does (output, a recording, a reconnect). */
const WAIT_MS = 15_000;

/** What the table does not see: SSH channels (as /metrics counts them) and live-event bus listeners. */
function counters(w: World): Counters {
  return {
    "open SSH channels": openSshChannels(w.t.services.ssh),
    "live-event listeners": () => w.t.services.live.size,
  };
}
const baseline = (w: World) => settledHold(counters(w));
const backAt = (w: World, base: Hold, what: string) => assertHoldsNoMore(base, what, counters(w), SETTLE_MS);

// ---------------------------------------------------------------------------------------------
// The world (as scripts/bench_plugins.ts builds it): files, terminal and logs plugins over one
// harness sshd, the app on a real port, production SSH timings (no probe traffic in the counts).
// ---------------------------------------------------------------------------------------------

interface World {
  t: TestApp;
  sshd: Sshd;
  id: number;
  cookie: string;
  /** http://127.0.0.1:<port> */
  http: string;
  /** The files plugin's only root, owned by the harness user. */
  root: string;
  owner: { uid: number; gid: number };
  /** The instance's /var/log (bound over it in sshd's mount namespace). */
  varLog: string;
  /** A request to the served app as a browser on ORIGIN sends it (no pooled connection left behind). */
  api(
    method: string,
    path: string,
    init?: { body?: BodyInit; headers?: Record<string, string>; signal?: AbortSignal },
  ): Promise<Response>;
  /** Has `f` run when the world closes, before what the world set up itself. */
  defer(f: () => Promise<unknown>): void;
  close(): Promise<void>;
}

async function idOf(flag: string): Promise<number> {
  const out = await new Deno.Command("id", { args: [flag, TEST_USER], stdout: "piped" }).output();
  return Number(new TextDecoder().decode(out.stdout).trim());
}

async function world(): Promise<World> {
  const endpoints = new Map<string, SshEndpoint>();
  const tag = crypto.randomUUID().slice(0, 8);
  const root = `/var/lib/${TEST_USER}/leaks-files-${tag}`;
  const tmuxDir = `/tmp/claworc-leaks-tmux-${tag}`;
  const plugins = [
    ...builtinPlugins().filter((p) => !["files", "terminal", "logs"].includes(p.name)),
    fixedBackend(endpoints),
    filesPlugin({ roots: [root] }),
    // A socket whose browser left before the answer is given up after openTimeoutMs: short, so within SETTLE_MS.
    terminalPlugin({ openTimeoutMs: 2_000 }),
    logsPlugin(),
  ];
  const t = await testApp({}, plugins, { ssh: sshDefaults });
  const cleanup: (() => Promise<unknown>)[] = [() => t.close()];
  const close = async () => {
    for (const f of cleanup.reverse()) await f().catch(() => {});
  };
  try {
    const varLog = await Deno.makeTempDir({ prefix: "claworc-leaks-log-" });
    cleanup.push(() => Deno.remove(varLog, { recursive: true }));
    await Deno.chmod(varLog, 0o755);
    await Deno.mkdir(`${varLog}/claworc`, { mode: 0o755 });
    await Deno.writeTextFile(`${varLog}/claworc/sshd.log`, "Server listening on 0.0.0.0 port 22.\n", { mode: 0o644 });
    // Its own tmux socket folder, so a terminal test running meanwhile never shares the tmux server.
    const sshd = await startSshd({
      authorizedKeys: [authorizedLine(t.services.sshKeys.publicKey, t.services.ssh.targets)],
      extraConfig: `SetEnv TMUX_TMPDIR=${tmuxDir}`,
      binds: [{ source: varLog, target: "/var/log" }],
    });
    cleanup.push(() => sshd.close());
    const owner = { uid: await idOf("-u"), gid: await idOf("-g") };
    await ownedDir(root, owner);
    await ownedDir(tmuxDir, owner, 0o700);
    cleanup.push(() => Deno.remove(root, { recursive: true }), () => Deno.remove(tmuxDir, { recursive: true }));
    endpoints.set("leaks", { host: sshd.host, port: sshd.port, username: sshd.user });
    const id = t.services.instances.insert("leaks", "Leaks").id;
    const cookie = await t.setupAdmin();
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req, info) => t.app.fetch(req, info));
    cleanup.push(() => server.shutdown());
    // No idle keep-alive connections: what stays open between requests would blur the count.
    const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
    cleanup.push(() => Promise.resolve(client.close()));
    await t.services.ssh.connect(id);
    const http = `http://127.0.0.1:${server.addr.port}`;
    return {
      t,
      sshd,
      id,
      cookie,
      http,
      root,
      owner,
      varLog,
      api: (method, path, init = {}) =>
        fetch(`${http}${path}`, {
          method,
          body: init.body,
          headers: { cookie, origin: ORIGIN, ...init.headers },
          signal: init.signal,
          client,
        }),
      defer: (f) => void cleanup.push(f),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Runs one test in a fresh world (sanitizers off: the world's server, sshd and SSH connection span the test). */
function leakTest(name: string, fn: (w: World) => Promise<void>) {
  Deno.test({
    name,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const w = await world();
      try {
        await fn(w);
      } finally {
        await w.close();
      }
    },
  });
}

// ---------------------------------------------------------------------------------------------
// 1. Terminal: WebSocket open, a command typed and its output read, socket closed, its recording read;
//    a request that is no WebSocket handshake; a session deleted while attached
// ---------------------------------------------------------------------------------------------

leakTest(
  "resources: terminal sockets and their recordings, a failed upgrade and a deleted session leave nothing behind",
  async (w) => {
    const url = `ws://127.0.0.1:${new URL(w.http).port}/api/v1/instances/${w.id}/terminal`;
    const sessions = async () => {
      const res = await w.api("GET", `/api/v1/instances/${w.id}/terminal/sessions`);
      return (await json(res)).sessions as { session_id: string; attached: boolean }[];
    };
    /** Attaches to `sessionId`, runs a command whose output cannot be its echo, and returns the client. */
    const session = async (sessionId: string, n: number) => {
      const c = new TermClient(`${url}?session_id=${sessionId}&cols=100&rows=30`, { cookie: w.cookie, origin: ORIGIN });
      try {
        await until(() => c.frames("session").length === 1 || c.closed !== null, WAIT_MS, "the session frame");
        assert.equal(c.closed, null, `the terminal socket closed at once: ${JSON.stringify(c.closed)}`);
        const mark = c.text().length;
        c.type(`echo round-$((${n} * 1000 + 7))\r`);
        await until(() => c.since(mark).includes(`round-${n * 1000 + 7}`), WAIT_MS, `round ${n}'s output`);
        return c;
      } catch (e) {
        c.close();
        throw e;
      }
    };
    const closeClient = async (c: TermClient) => {
      c.close();
      await until(() => c.closed !== null, WAIT_MS, "the socket to close");
    };
    const detached = (id: string) =>
      until(async () => (await sessions()).some((s) => s.session_id === id && !s.attached), WAIT_MS, "detached");

    /**
     * One socket's whole life; its recording (written to a file while attached) downloaded, and asked for
     * with HEAD (Hono answers HEAD with the GET handler and drops its body, an open file); then a request
     * that says Upgrade but is no WebSocket handshake, which fails after the PTY channel is open.
     */
    const seen = new Set<string>();
    const round = async (n: number) => {
      await closeClient(await session("leaks", n));
      await detached("leaks");
      const recordings = `/api/v1/instances/${w.id}/terminal/recordings`;
      let made: { id: string; active: boolean } | undefined;
      await until(
        async () => {
          const list: { id: string; session_id: string; active: boolean }[] =
            (await json(await w.api("GET", recordings))).recordings;
          made = list.find((r) => r.session_id === "leaks" && !seen.has(r.id));
          return made?.active === false;
        },
        WAIT_MS,
        "the socket's recording to be finished",
      );
      seen.add(made!.id);
      const cast = await w.api("GET", `${recordings}/${made!.id}`);
      assert.equal(cast.status, 200);
      assert.ok((await cast.text()).includes(`round-${n * 1000 + 7}`), `round ${n}'s recording holds its output`);
      const head = await w.api("HEAD", `${recordings}/${made!.id}`);
      assert.equal(head.status, 200);
      await head.body?.cancel();

      const notWebSocket = await w.api("GET", `/api/v1/instances/${w.id}/terminal?session_id=half`, {
        headers: { upgrade: "websocket" },
      });
      assert.equal(notWebSocket.status, 400, "a request that is no whole handshake");
      assert.match((await json(notWebSocket, 400)).detail, /Connection: Upgrade, Sec-WebSocket-Key/);

      // A browser that leaves right after its handshake: the session is prepared and the PTY opened
      // for it all the same, and upgraded (audited), but Deno never opens that socket.
      const before = openAudits();
      await abandonedHandshake(
        abandonServer.addr.port,
        `/api/v1/instances/${w.id}/terminal?session_id=left`,
        { origin: ORIGIN, cookie: w.cookie },
      );
      await until(() => openAudits() > before, WAIT_MS, "the abandoned socket's upgrade");
    };

    const openAudits = () => w.t.services.audit.query({ action: "terminal.open", limit: 1, offset: 0 }).total;
    // Its own server: an upgrade whose client left can keep a server's shutdown waiting.
    const abandonAbort = new AbortController();
    const abandonServer = Deno.serve(
      { hostname: "127.0.0.1", port: 0, signal: abandonAbort.signal, onListen() {} },
      (req, info) => w.t.app.fetch(req, info),
    );
    w.defer(async () => {
      abandonAbort.abort();
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([abandonServer.finished, new Promise((r) => timer = setTimeout(r, 2_000))]);
      clearTimeout(timer);
    });
    const settings = await w.api("PUT", "/api/v1/settings", {
      body: JSON.stringify({ terminal_recording: true }),
      headers: { "content-type": "application/json" },
    });
    assert.equal(settings.status, 200, await settings.text());
    await round(0); // warm-up
    const base = await baseline(w);
    for (let n = 1; n <= ROUNDS; n++) await round(n);
    await backAt(
      w,
      base,
      `${ROUNDS} terminal sockets opened, recorded and closed, their recordings downloaded, and ${ROUNDS} left early`,
    );

    // A session deleted through the API while attached: the server ends the socket.
    const c = await session("leaks", ROUNDS + 1);
    assert.equal((await w.api("DELETE", `/api/v1/instances/${w.id}/terminal/sessions/leaks`)).status, 204);
    await until(() => c.closed !== null, WAIT_MS, "the deleted session's socket to close");
    assert.deepEqual(c.frames("exit").map((f) => f.session_ended), [true]);
    // The half handshakes made no session; the abandoned ones share theirs.
    assert.deepEqual((await sessions()).map((s) => s.session_id), ["left"]);
    await backAt(w, base, "a terminal session deleted while attached");
    assert.equal(openAudits(), 2 * (ROUNDS + 1) + 1);
  },
);

// ---------------------------------------------------------------------------------------------
// 2. Files: browse, download (and HEAD), upload, read and edit
// ---------------------------------------------------------------------------------------------

leakTest(
  "resources: files browse, download (GET and HEAD), upload, read and edit leave nothing behind",
  async (w) => {
    const base = `/api/v1/instances/${w.id}/files`;
    const small = new Uint8Array(4096).map((_, i) => (i * 31 + 7) & 0xff);
    await ownedFile(`${w.root}/small.bin`, small, w.owner);
    await ownedFile(`${w.root}/notes.txt`, "notes 0\n", w.owner);

    const round = async (n: number) => {
      const listing = await json(await w.api("GET", `${base}/browse?${q(w.root)}`));
      assert.ok(listing.entries.some((e: { name: string }) => e.name === "small.bin"));

      const dl = await w.api("GET", `${base}/download?${q(`${w.root}/small.bin`)}`);
      assert.equal(dl.status, 200);
      assert.deepEqual(new Uint8Array(await dl.arrayBuffer()), small);
      const head = await w.api("HEAD", `${base}/download?${q(`${w.root}/small.bin`)}`);
      assert.equal(head.headers.get("content-length"), String(small.length));
      await head.body?.cancel();

      const form = multipart([{ name: `up-${n}.bin`, data: small.subarray(n, n + 1000) }]);
      const up = await json(
        await w.api("POST", `${base}/upload?${q(w.root)}`, {
          body: form.body,
          headers: { "content-type": form.contentType },
        }),
      );
      assert.equal(up.success, true);
      assert.deepEqual(await Deno.readFile(`${w.root}/up-${n}.bin`), small.subarray(n, n + 1000));

      const read = await json(await w.api("GET", `${base}/read?${q(`${w.root}/notes.txt`)}`));
      assert.equal(read.content, `notes ${n === 0 ? 0 : n - 1}\n`);
      await json(
        await w.api("POST", `${base}/create`, {
          body: JSON.stringify({ path: `${w.root}/notes.txt`, content: `notes ${n}\n` }),
          headers: { "content-type": "application/json" },
        }),
      );
      assert.equal(await Deno.readTextFile(`${w.root}/notes.txt`), `notes ${n}\n`);
    };

    await round(0); // warm-up
    const before = await baseline(w);
    for (let n = 1; n <= ROUNDS; n++) await round(n);
    await backAt(w, before, `${ROUNDS} rounds of browse, download (GET and HEAD), upload, read and edit`);
  },
);

// ---------------------------------------------------------------------------------------------
// 3. Logs: an SSE stream followed over SSH, lines read, the request aborted; HEAD
// ---------------------------------------------------------------------------------------------

leakTest(
  "resources: followed log streams aborted by the client, and HEAD requests for them, leave nothing behind",
  async (w) => {
    const log = `${w.varLog}/claworc/sshd.log`;
    const path = `/api/v1/instances/${w.id}/logs?type=sshd&follow=true&tail=5`;
    const round = async (n: number) => {
      const abort = new AbortController();
      const events = readEvents(await w.api("GET", path, { signal: abort.signal }));
      try {
        await until(() => logLines(events.text()).length > 0, WAIT_MS, "the log's last lines");
        assert.deepEqual(eventsNamed(events.text(), "ready")[0], {
          type: "sshd",
          source: "ssh",
          follow: true,
          tail: 5,
        });
        await Deno.writeTextFile(log, `live line ${n}\n`, { append: true });
        await until(() => logLines(events.text()).includes(`live line ${n}`), WAIT_MS, `live line ${n}`);
      } finally {
        abort.abort();
        events.cancel();
      }
      // HEAD: Hono runs the GET handler and drops the stream it answers with, unread.
      const head = await w.api("HEAD", path);
      assert.equal(head.headers.get("content-type"), "text/event-stream");
      await head.body?.cancel();
    };
    await round(0); // warm-up
    const base = await baseline(w);
    for (let n = 1; n <= ROUNDS; n++) await round(n);
    await backAt(w, base, `${ROUNDS} followed log streams aborted and ${ROUNDS} asked for with HEAD`);
    assert.equal(w.t.services.audit.query({ action: "logs.view", limit: 100, offset: 0 }).total, 2 * (ROUNDS + 1));
  },
);

// ---------------------------------------------------------------------------------------------
// 4. SSH status (the health tab has no stream of its own; its events come on /api/v1/events): the
//    live event stream opened, read and aborted around an SSH test and a reconnect; HEAD
// ---------------------------------------------------------------------------------------------

leakTest(
  "resources: live event streams (GET and HEAD), SSH status, test and reconnect leave nothing behind",
  async (w) => {
    const round = async () => {
      const abort = new AbortController();
      const events = readEvents(await w.api("GET", "/api/v1/events", { signal: abort.signal }));
      try {
        await until(() => eventsNamed(events.text(), "ready").length === 1, WAIT_MS, "the ready event");
        assert.equal((await json(await w.api("GET", `/api/v1/instances/${w.id}/ssh-status`))).state, "connected");
        assert.equal((await json(await w.api("GET", `/api/v1/instances/${w.id}/ssh-test`))).status, "ok");
        // A reconnect drops the SSH connection and makes a new one; the stream carries its events.
        assert.equal((await json(await w.api("POST", `/api/v1/instances/${w.id}/ssh-reconnect`))).status, "ok");
        await until(
          () => eventsNamed<{ event: string }>(events.text(), "ssh").some((e) => /^(re)?connected$/.test(e.event)),
          WAIT_MS,
          "the reconnect's ssh event",
        );
      } finally {
        abort.abort();
        events.cancel();
      }
      const head = await w.api("HEAD", "/api/v1/events");
      assert.equal(head.headers.get("content-type"), "text/event-stream");
      await head.body?.cancel();
    };
    await round(); // warm-up
    const base = await baseline(w);
    for (let n = 1; n <= ROUNDS; n++) await round();
    await backAt(w, base, `${ROUNDS} event streams (and ${ROUNDS} HEAD requests), SSH tests and reconnects`);
  },
);
