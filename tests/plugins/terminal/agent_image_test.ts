import assert from "node:assert/strict";
import { terminalPlugin } from "../../../plugins/terminal/mod.tsx";
import { reapOnce } from "../../../plugins/terminal/reaper.ts";
import { silentLogger } from "../../../core/log.ts";
import { ORIGIN } from "../../_helpers/harness.ts";
import { instanceWorld } from "../../harness/instance_world.ts";
import { until } from "../../harness/pool.ts";
import { TermClient } from "./_ws_client.ts";

const UPGRADE = { upgrade: "websocket", connection: "Upgrade", "sec-websocket-version": "13" };

Deno.test({
  name:
    "terminal on the real agent image: bytes both ways, resize, reattach with replay, owners, origin, burst, exit, recording",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const tag = crypto.randomUUID().slice(0, 6);
    const w = await instanceWorld(tag, () => [terminalPlugin({ recheckMs: 500 })], `Term ${tag}`);
    const { t, admin, id } = w;
    const serve = (app: typeof t.app) =>
      Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req, info) => app.fetch(req, info));
    let server = serve(t.app);
    const clients: TermClient[] = [];
    try {
      const otherId = await t.createUser(admin, "other");
      t.services.users.setAssignedInstances(otherId, [id]);
      const other = await t.login("other", "other-password-1");

      const base = () => `ws://127.0.0.1:${server.addr.port}/api/v1/instances/${id}/terminal`;
      const open = (query: string, cookie = admin, origin = ORIGIN) => {
        const c = new TermClient(`${base()}?${query}`, { cookie, origin });
        clients.push(c);
        return c;
      };
      const sessionsOf = async (cookie: string) => {
        const res = await t.request("GET", `/api/v1/instances/${id}/terminal/sessions`, { cookie });
        assert.equal(res.status, 200);
        return (await res.json()).sessions as { session_id: string; owner: string; attached: boolean }[];
      };

      // A new session: the first frame says so, then a shell prompt.
      const a = open("session_id=main&cols=100&rows=30");
      await until(() => a.frames("session").length === 1, 20_000, "the session frame");
      assert.deepEqual(a.frames("session")[0], {
        type: "session",
        session_id: "main",
        created: true,
        cols: 100,
        rows: 30,
        replay_bytes: 0,
        recording: false,
      });

      // Output: the program's bytes (UTF-8 included) arrive as written (the typed command holds only octal escapes).
      a.type(`export KEEP=kept-${tag}; printf '\\342\\202\\254 out-%s \\303\\251\\n' ${tag}\r`);
      await until(() => a.text().includes(`€ out-${tag} é`), 10_000, "printf output");

      // Input: every byte typed reaches the program (cat writes it to a file; compared over SSH), a 100 KB paste too.
      const line = `in-${tag} ünïcödé\t€ ${"y".repeat(60)}\n`;
      const paste = line.repeat(1600);
      a.type(`cat > /tmp/in-${tag}\r`);
      // Typed once cat is running, so only cat reads it.
      const catRuns = `for p in $(pgrep -x cat); do [ "$(readlink /proc/$p/fd/1)" = /tmp/in-${tag} ] && echo yes; done`;
      await until(async () => (await t.services.ssh.exec(id, catRuns)).stdout.includes("yes"), 20_000, "cat to start");
      a.type(paste.replaceAll("\n", "\r"));
      a.type("\x04");
      await until(
        async () => {
          const r = await t.services.ssh.exec(id, `wc -c < /tmp/in-${tag}`);
          return Number(r.stdout.trim()) === new TextEncoder().encode(paste).length;
        },
        20_000,
        "all input written by cat",
      );
      const sum = await t.services.ssh.exec(id, `sha256sum < /tmp/in-${tag}`);
      const want = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(paste)));
      assert.equal(sum.stdout.split(" ")[0], [...want].map((b) => b.toString(16).padStart(2, "0")).join(""));

      // Resize: clamped to sane bounds, and the PTY inside tmux sees it.
      a.resize(100_000, 0);
      await until(() => a.frames("resized").length === 1, 5_000, "the clamped resize");
      assert.deepEqual(a.frames("resized")[0], { type: "resized", cols: 500, rows: 1 });
      a.resize(132, 40);
      await until(() => a.frames("resized").length === 2, 5_000, "the resize");
      await new Promise((r) => setTimeout(r, 300));
      let mark = a.text().length;
      a.type("stty size\r");
      await until(() => a.since(mark).includes("40 132"), 10_000, "stty size after the resize");

      // The browser goes away: the session stays (detached), a reattach replays its scrollback and keeps the shell.
      // The output (computed, so the echoed command line cannot match) — tmux may redraw instead of "\r\n".
      a.type(`echo before-drop-$((40 + 2))-${tag}\r`);
      await until(() => a.text().includes(`before-drop-42-${tag}`), 20_000, "the marker");
      a.close();
      await until(
        async () => (await sessionsOf(admin)).some((s) => s.session_id === "main" && !s.attached),
        10_000,
        "detached",
      );
      const b = open("session_id=main&cols=132&rows=40");
      await until(() => b.frames("session").length === 1, 20_000, "the reattach");
      const info = b.frames("session")[0];
      assert.equal(info.created, false);
      assert.ok((info.replay_bytes as number) > 0);
      await until(() => b.bytes >= (info.replay_bytes as number), 5_000, "the replay");
      assert.ok(b.text().includes(`before-drop-42-${tag}`), "the replay holds the earlier output");
      mark = b.text().length;
      b.type("echo $KEEP\r");
      await until(() => b.since(mark).includes(`kept-${tag}`), 10_000, "the same shell after the reattach");
      // /metrics counts the attached browser and its PTY channel.
      const metric = async (line: RegExp) => {
        const text = await (await w.t.request("GET", "/metrics", { cookie: admin })).text();
        return Number(text.match(line)?.[1]);
      };
      await until(async () => await metric(/^claworc_terminal_sockets (\d+)$/m) === 1, 5_000, "one socket counted");
      assert.equal(await metric(/^claworc_ssh_channels\{kind="pty"\} (\d+)$/m), 1);

      // Another user (assigned to the instance): cannot attach to or see the admin's session; their own works.
      const refused = await t.request("GET", `/api/v1/instances/${id}/terminal?session_id=main`, {
        cookie: other,
        headers: { ...UPGRADE, "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", origin: ORIGIN },
      });
      assert.equal(refused.status, 403);
      assert.equal((await refused.json()).code, "FORBIDDEN");
      assert.deepEqual(await sessionsOf(other), []);
      const o = open("session_id=theirs", other);
      await until(() => o.frames("session").length === 1, 20_000, "the other user's own session");
      assert.deepEqual((await sessionsOf(other)).map((s) => s.session_id), ["theirs"]);
      // Admins list every session and may close one, but not attach to it.
      assert.deepEqual((await sessionsOf(admin)).map((s) => [s.session_id, s.owner]), [
        ["main", "admin"],
        ["theirs", "other"],
      ]);
      const adminAttach = await t.request("GET", `/api/v1/instances/${id}/terminal?session_id=theirs`, {
        cookie: admin,
        headers: { ...UPGRADE, "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", origin: ORIGIN },
      });
      assert.equal(adminAttach.status, 403);
      assert.equal(
        (await t.request("DELETE", `/api/v1/instances/${id}/terminal/sessions/main`, { cookie: other })).status,
        404,
      );
      assert.equal(
        (await t.request("DELETE", `/api/v1/instances/${id}/terminal/sessions/theirs`, { cookie: admin })).status,
        204,
      );
      await until(() => o.closed !== null, 10_000, "the closed session's socket");
      assert.deepEqual(o.frames("exit").map((f) => f.session_ended), [true]);

      // An Origin from elsewhere is refused at the upgrade (real socket and plain request).
      const evil = open("session_id=main", admin, "http://evil.test");
      await until(() => evil.closed !== null, 5_000, "the cross-site socket to fail");
      assert.equal(evil.opened, false);
      const cross = await t.request("GET", `/api/v1/instances/${id}/terminal?session_id=main`, {
        cookie: admin,
        headers: { ...UPGRADE, "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", origin: "http://evil.test" },
      });
      assert.equal(cross.status, 403);
      assert.equal((await cross.json()).code, "ORIGIN_REJECTED");

      // A 20 MB burst: the program is never cut off, the socket stays up, and what follows arrives.
      mark = b.text().length;
      const before = b.bytes;
      b.type(`head -c 20000000 /dev/zero | tr '\\0' x | fold -w 200; echo burst-done-${tag}-$(( 6 * 7 ))\r`);
      await until(() => b.since(mark).includes(`burst-done-${tag}-42`), 45_000, "the end of the burst");
      assert.equal(b.closed, null);
      assert.ok(b.bytes - before > 10_000, `${b.bytes - before} bytes of output`);

      // The shell exits: the session ends, the socket says so and closes normally.
      b.type("exit\r");
      await until(() => b.closed !== null, 10_000, "the socket to close after exit");
      assert.deepEqual(b.frames("exit").map((f) => f.session_ended), [true]);
      assert.equal((b.closed as { code: number } | null)?.code, 1000);
      assert.deepEqual(await sessionsOf(admin), []);

      // Detached sessions are reaped after their time (the time is kept on the instance).
      const r = open("session_id=old");
      await until(() => r.frames("session").length === 1, 20_000, "a session to reap");
      r.close();
      await until(
        async () => (await sessionsOf(admin)).some((s) => s.session_id === "old" && !s.attached),
        10_000,
        "detached",
      );
      assert.equal(await reapOnce(t.services, silentLogger, Date.now(), 3600_000), 0, "not yet");
      assert.equal(await reapOnce(t.services, silentLogger, Date.now() + 3600_000 + 5_000, 3600_000), 1);
      assert.deepEqual(await sessionsOf(admin), []);

      // A signed-out user's terminal closes at the next re-check (4001); the session itself stays.
      const z = open("session_id=mine", other);
      await until(() => z.frames("session").length === 1, 20_000, "the other user's second session");
      await t.request("POST", "/api/v1/auth/logout", { cookie: other });
      await until(() => z.closed !== null, 5_000, "the socket to close with the sign-in");
      assert.equal((z.closed as { code: number } | null)?.code, 4001);
      assert.deepEqual((await sessionsOf(admin)).map((s) => s.session_id), ["mine"]);

      const audit = t.services.audit.query({ limit: 100, offset: 0 }).entries
        .filter((e) => e.action.startsWith("terminal."));
      assert.ok(audit.filter((e) => e.action === "terminal.open").length >= 4, "opens audited");
      assert.ok(audit.some((e) => e.action === "terminal.open" && e.outcome === "denied"), "refusal audited");
      assert.ok(audit.some((e) => e.action === "terminal.close" && e.details.reason === "closed by request"));
      assert.ok(audit.some((e) => e.action === "terminal.close" && e.details.reason === "detached too long"));
      for (const c of clients) c.close();
      await until(async () => await metric(/^claworc_terminal_sockets (\d+)$/m) === 0, 10_000, "no socket counted");
      await until(async () => await metric(/^claworc_ssh_channels\{kind="pty"\} (\d+)$/m) === 0, 10_000, "no PTY");

      // Recording (off until now: the sessions above said so): an admin turns it on at run time; the next
      // socket's output and resizes land in an asciicast file with increasing times, and typed input does not.
      const setting = (on: boolean) =>
        t.request("PUT", "/api/v1/settings", { cookie: admin, body: { terminal_recording: on } });
      assert.equal((await setting(true)).status, 200);
      const rc = open("session_id=rec&cols=90&rows=20");
      await until(() => rc.frames("session").length === 1 && rc.bytes > 0, 20_000, "the recorded session");
      assert.equal(rc.frames("session")[0].recording, true);
      rc.type(`echo rec-$((6 * 7))-${tag}\r`);
      await until(() => rc.text().includes(`rec-42-${tag}`), 10_000, "the recorded command's output");
      rc.resize(100, 25);
      await until(() => rc.frames("resized").length === 1, 5_000, "the recorded resize");
      rc.type("read -rs HIDDEN\r");
      await new Promise((r) => setTimeout(r, 300));
      rc.type(`hidden-${tag}\recho done-$((1 + 1))-${tag}\r`);
      await until(() => rc.text().includes(`done-2-${tag}`), 10_000, "the second command's output");
      rc.close();
      const recordingsUrl = `/api/v1/instances/${id}/terminal/recordings`;
      type Listed = { id: string; session_id: string; user: string; active: boolean; duration_s: number };
      let listed: Listed[] = [];
      await until(
        async () => {
          listed = (await (await t.request("GET", recordingsUrl, { cookie: admin })).json()).recordings;
          return listed.length === 1 && !listed[0].active;
        },
        10_000,
        "the finished recording",
      );
      assert.equal(listed[0].session_id, "rec");
      assert.equal(listed[0].user, "admin");
      const otherAgain = await t.login("other", "other-password-1");
      const theirs = await t.request("GET", recordingsUrl, { cookie: otherAgain });
      assert.deepEqual((await theirs.json()).recordings, [], "another user does not see it");
      assert.equal((await t.request("GET", `${recordingsUrl}/${listed[0].id}`, { cookie: otherAgain })).status, 404);
      const cast = await t.request("GET", `${recordingsUrl}/${listed[0].id}`, { cookie: admin });
      assert.equal(cast.status, 200);
      assert.equal(cast.headers.get("content-type"), "application/x-asciicast");
      const castText = await cast.text();
      assert.ok(listed[0].duration_s > 0, `${JSON.stringify(listed[0])}\n${castText.slice(-2000)}`);
      const [headerLine, ...eventLines] = castText.trimEnd().split("\n");
      const header = JSON.parse(headerLine);
      assert.equal(header.version, 2);
      assert.deepEqual([header.width, header.height, header.env.CLAWORC_USER], [90, 20, "admin"]);
      const events = eventLines.map((l) => JSON.parse(l) as [number, string, string]);
      for (let i = 1; i < events.length; i++) assert.ok(events[i][0] >= events[i - 1][0], "times never go back");
      const output = events.filter((e) => e[1] === "o").map((e) => e[2]).join("");
      const at = (text: string) => events.find((e) => e[1] === "o" && e[2].includes(text))?.[0] ?? NaN;
      assert.ok(at(`rec-42-${tag}`) < at(`done-2-${tag}`), "the second output is recorded later");
      assert.ok(events.some((e) => e[1] === "r" && e[2] === "100x25"), "the resize is recorded");
      assert.ok(!output.includes(`hidden-${tag}`), "typed input is not recorded");
      const opened = t.services.audit.query({ action: "terminal.open", limit: 1, offset: 0 }).entries[0];
      assert.equal(opened.details.recording, listed[0].id);
      assert.equal((await setting(false)).status, 200);

      // The control plane restarts under an attached terminal: the shell lives on in tmux on the instance,
      // the owner reattaches to it with the scrollback replayed, and no other user can.
      const k = open("session_id=keep");
      await until(() => k.frames("session").length === 1, 20_000, "the session to keep");
      assert.equal(k.frames("session")[0].recording, false, "recording is off again");
      k.type(`export KEEP2=restart-${tag}; echo before-restart-$((40 + 2))-${tag}\r`);
      await until(() => k.text().includes(`before-restart-42-${tag}`), 20_000, "the marker before the restart");
      const t2 = await w.restart();
      await server.shutdown();
      server = serve(t2.app);
      await until(() => k.closed !== null, 10_000, "the old socket to drop with the old process");
      const back = open("session_id=keep");
      await until(() => back.frames("session").length === 1, 20_000, "the reattach after the restart");
      assert.equal(back.frames("session")[0].created, false);
      await until(() => back.bytes >= (back.frames("session")[0].replay_bytes as number), 5_000, "the replay");
      assert.ok(back.text().includes(`before-restart-42-${tag}`), "the replay holds the output from before");
      mark = back.text().length;
      back.type("echo $KEEP2\r");
      await until(() => back.since(mark).includes(`restart-${tag}`), 10_000, "the same shell after the restart");
    } finally {
      for (const c of clients) c.close();
      await server.shutdown();
      await w.close();
    }
  },
});
