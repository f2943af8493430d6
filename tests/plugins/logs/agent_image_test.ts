import assert from "node:assert/strict";
import { logsPlugin } from "../../../plugins/logs/mod.tsx";
import { podman } from "../../harness/podman.ts";
import { instanceWorld } from "../../harness/instance_world.ts";
import { until } from "../../harness/pool.ts";
import { readEvents } from "../../harness/sse.ts";
import { eventsNamed, logLines } from "./_events.ts";

Deno.test({
  name: "logs of the real agent image: tail, follow, rotation, slow client, client gone, session end, fallback",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const tag = crypto.randomUUID().slice(0, 6);
    const w = await instanceWorld(tag, () => [logsPlugin({ heartbeatMs: 500, maxQueuedChars: 64_000 })], `Logs ${tag}`);
    const { t, service, admin, id, name } = w;
    try {
      const assignedId = await t.createUser(admin, "assigned");
      await t.createUser(admin, "plain");
      t.services.users.setAssignedInstances(assignedId, [id]);
      const assigned = await t.login("assigned", "assigned-password-1");
      const plain = await t.login("plain", "plain-password-1");
      /** Runs a command as root in the container (the agent may only read the service logs). */
      const asRoot = (cmd: string) => podman(["exec", name, "sh", "-c", cmd], service.env);
      const open = async (query: string, cookie = admin) =>
        readEvents(await t.request("GET", `/api/v1/instances/${id}/logs?${query}`, { cookie }));

      // Permissions and validation on a real instance.
      assert.equal((await t.request("GET", `/api/v1/instances/${id}/logs?type=sshd`, { cookie: plain })).status, 403);
      assert.equal((await t.request("GET", `/api/v1/instances/${id}/logs?type=dmesg`, { cookie: admin })).status, 400);

      // The agent can read every service log but write none (so rotation below is done as root).
      const perms = await t.services.ssh.exec(
        id,
        "for f in /var/log/claworc/*.log /var/log/supervisor/supervisord.log; do test -r $f && echo r $f; done; " +
          "touch /var/log/claworc/probe 2>/dev/null && echo writable || echo read-only",
      );
      assert.match(perms.stdout, /r \/var\/log\/claworc\/openclaw\.log\n/);
      assert.match(perms.stdout, /r \/var\/log\/supervisor\/supervisord\.log\nread-only\n$/);

      // tail: the last N lines of the file.
      await asRoot(`for i in $(seq 1 300); do echo "tail-${tag} line $i"; done >> /var/log/claworc/xvfb.log`);
      const tail = await open("type=xvfb&tail=50");
      await until(() => tail.text().includes("event: end"), 15_000, "the tail to end");
      assert.deepEqual(logLines(tail.text()), Array.from({ length: 50 }, (_, i) => `tail-${tag} line ${251 + i}`));
      assert.deepEqual(eventsNamed(tail.text(), "ready"), [{ type: "xvfb", source: "ssh", follow: false, tail: 50 }]);
      assert.deepEqual(eventsNamed(tail.text(), "end"), [{ reason: "complete" }]);

      // A client that does not read: its lines are dropped (bounded memory) and a gap says how many.
      const wide = "x".repeat(200);
      await asRoot(`for i in $(seq 1 5000); do echo "wide-$i ${wide}"; done >> /var/log/claworc/xvfb.log`);
      const slowRes = await t.request("GET", `/api/v1/instances/${id}/logs?type=xvfb&tail=5000`, { cookie: admin });
      await new Promise((r) => setTimeout(r, 3_000)); // all of the tail arrives over SSH meanwhile
      const slow = readEvents(slowRes);
      await until(() => slow.text().includes("event: end"), 15_000, "the slow stream to end");
      const gaps = eventsNamed<{ dropped: number }>(slow.text(), "gap");
      const got = logLines(slow.text());
      assert.ok(gaps.length > 0, "a gap marker was sent");
      assert.equal(got.length + gaps.reduce((n, g) => n + g.dropped, 0), 5000, "every line sent or counted");
      assert.ok(got.length < 5000 && got.length * 206 <= 64_000 * 2, `bounded: ${got.length} lines sent`);

      // follow: lines written later arrive, from a real sshd login and appended by hand.
      const follow = await open("type=sshd&tail=5&follow=true");
      await until(() => follow.text().includes("event: ready"), 15_000, "the follow stream to open");
      await t.services.ssh.verifyLogin(id, t.services.sshKeys.privateKey);
      await until(
        () => logLines(follow.text()).some((l) => /Accepted publickey for agent/.test(l)),
        15_000,
        "sshd's line for the new login",
      );
      await asRoot(`echo "follow-${tag} appended" >> /var/log/claworc/sshd.log`);
      await until(() => logLines(follow.text()).includes(`follow-${tag} appended`), 15_000, "the appended line");

      // Rotation as logrotate does it: rename, then SIGUSR2 makes supervisord reopen (a new file); tail -F follows.
      const accepted = () => logLines(follow.text()).filter((l) => /Accepted publickey for agent/.test(l)).length;
      await asRoot(
        'mv /var/log/claworc/sshd.log /var/log/claworc/sshd.log.1 && kill -USR2 "$(cat /var/run/supervisord.pid)"',
      );
      await until(async () => (await asRoot("ls /var/log/claworc")).includes("sshd.log\n"), 10_000, "a new sshd.log");
      await asRoot(`echo "rotated-${tag}" >> /var/log/claworc/sshd.log`);
      await until(() => logLines(follow.text()).includes(`rotated-${tag}`), 15_000, "the new file's line");
      const before = accepted();
      await t.services.ssh.verifyLogin(id, t.services.sshKeys.privateKey);
      await until(() => accepted() > before, 15_000, "sshd's next login line, from the new file");
      assert.ok(
        eventsNamed<{ message: string }>(follow.text(), "notice").some((n) => /has been replaced/.test(n.message)),
        "tail's own message about the rotation is passed on",
      );

      // The client goes away: the remote tail ends with its channel.
      const tails = async () => (await t.services.ssh.exec(id, "pgrep -u agent -x tail || true")).stdout.trim();
      assert.notEqual(await tails(), "", "the follow stream's tail runs");
      assert.match(follow.text(), /\n: keep-alive\n\n/, "an idle stream gets heartbeats");
      follow.cancel();
      await until(async () => await tails() === "", 10_000, "the remote tail to exit");

      // A signed-out session ends its stream at the next heartbeat.
      const mine = await open("type=openclaw&follow=true", assigned);
      await until(() => mine.text().includes("event: ready"), 15_000, "the assigned user's stream");
      await t.request("POST", "/api/v1/auth/logout", { cookie: assigned });
      await until(() => mine.text().includes("event: end"), 5_000, "the stream to end with the session");
      assert.deepEqual(eventsNamed(mine.text(), "end"), [{ reason: "Your session ended." }]);

      // The container console comes from the runtime backend, without Docker's frame headers.
      const system = await open("type=system&tail=100");
      await until(() => system.text().includes("event: end"), 15_000, "the system log");
      assert.equal(eventsNamed<{ source: string }>(system.text(), "ready")[0].source, "container");
      const consoleLines = logLines(system.text());
      assert.ok(consoleLines.some((l) => /INFO success: sshd entered RUNNING state/.test(l)), consoleLines.join("\n"));
      assert.ok(consoleLines.every((l) => [...l].every((ch) => ch.charCodeAt(0) > 8)), "no frame header left");

      // SSH down: sshd stopped and the pool's connection closed, so connecting fails: fallback, said so.
      await asRoot("supervisorctl stop sshd");
      // supervisord's line reaches the engine's log a moment after the command returns (CI once read before it).
      const stopped = /stopped: sshd|waiting for sshd to stop/;
      await until(async () => stopped.test(await w.backend.logs(name, 20)), 15_000, "the engine to log sshd's stop");
      t.services.ssh.stop(id, "test: SSH down");
      const down = await open("type=openclaw&tail=20&follow=true");
      await until(() => down.text().includes("event: end"), 30_000, "the fallback stream to end");
      assert.equal(eventsNamed<{ source: string }>(down.text(), "ready")[0].source, "container");
      const [notice] = eventsNamed<{ fallback?: boolean; message: string }>(down.text(), "notice");
      assert.equal(notice.fallback, true);
      assert.match(notice.message, /^SSH is unavailable \(.+\)\. Showing the container log from the runtime backend/);
      const fallbackLines = logLines(down.text());
      assert.ok(fallbackLines.length > 0 && fallbackLines.length <= 20, `${fallbackLines.length} lines`);
      assert.ok(fallbackLines.some((l) => stopped.test(l)), fallbackLines.join("\n"));

      const views = t.services.audit.query({ action: "logs.view", limit: 100, offset: 0 }).entries;
      assert.deepEqual(
        views.map((e) => e.details.type).reverse(),
        ["xvfb", "xvfb", "sshd", "openclaw", "system", "openclaw"],
        "one audit entry per stream opened",
      );
    } finally {
      await w.close();
    }
  },
});
