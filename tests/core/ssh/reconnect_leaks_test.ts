/**
 * Leak checks for the SSH pool's connection life cycle against real OpenSSH (tests/harness/sshd.ts):
 * forced reconnects with channels open, sshd killed and restarted under a started instance, connects
 * that fail in each way a real network and sshd refuse them, and health probes. Each test does a
 * warm-up round, takes what the process holds, runs its rounds and must come back to it: Deno's
 * resource table (sockets; garbage collection never empties it), the pool's open channel count, the
 * kernel's own list of TCP connections to the servers involved (what a half-closed socket or a
 * session sshd still serves would show, whoever holds it). Not the process's socket descriptors: test
 * files run in parallel workers of one process, so those count other files' sockets too.
 */
import assert from "node:assert/strict";
import type { Duplex } from "node:stream";
import { AppError } from "../../../core/errors.ts";
import { authorizedLine } from "../../../core/ssh/authorized_line.ts";
import { CLOSE_GRACE_MS } from "../../../core/ssh/connection.ts";
import { generateKeyPair } from "../../../core/ssh/key_store.ts";
import type { SshOptions } from "../../../core/ssh/options.ts";
import type { SshPool } from "../../../core/ssh/pool.ts";
import type { TunnelTarget } from "../../../core/ssh/tunnel_targets.ts";
import {
  assertHoldsNoMore,
  type Counters,
  type Hold,
  openSshChannels,
  settledHold,
} from "../../_helpers/leak_check.ts";
import { echoServer, type PoolFixture, poolFixture, until } from "../../harness/pool.ts";
import { type Sshd, startSshd } from "../../harness/sshd.ts";

const ROUNDS = 10;
/** Longest wait for anything sshd or the pool does (a restart, a reconnect). */
const WAIT_MS = 15_000;
/** How long the counts may take to come back (closes complete asynchronously). */
const SETTLE_MS = 5_000;
/** Generous limits: these tests are about connections, not the limiter (which has its own tests). */
const LIMITS = { maxAttempts: 10_000, failuresToBlock: 10_000 };

// ---------------------------------------------------------------------------------------------
// What is counted besides the resource table
// ---------------------------------------------------------------------------------------------

/** TCP states in /proc/net/tcp that are not a connection anyone holds (LISTEN, TIME_WAIT). */
const NOT_HELD = new Set(["0A", "06"]);

/**
 * TCP sockets of this network namespace with one end on one of `ports` (127.0.0.1), in any state
 * but LISTEN and TIME_WAIT: both halves of a connection to sshd (ours and its session's), and one
 * we half-closed that the peer never finished.
 */
function tcpWith(ports: () => number[]): () => number {
  return () => {
    const wanted = new Set(ports());
    let n = 0;
    for (const line of Deno.readTextFileSync("/proc/net/tcp").split("\n").slice(1)) {
      const [, local, remote, state] = line.trim().split(/\s+/);
      if (!local || NOT_HELD.has(state)) continue;
      const port = (addr: string) => parseInt(addr.split(":")[1], 16);
      if (wanted.has(port(local)) || wanted.has(port(remote))) n++;
    }
    return n;
  };
}

function counters(pool: SshPool, ports: () => number[]): Counters {
  return {
    "open SSH channels": openSshChannels(pool),
    "TCP connections with the test servers": tcpWith(ports),
  };
}

// ---------------------------------------------------------------------------------------------
// The world: one pool (instance 1), one sshd accepting its key, tunnel targets served in-process
// ---------------------------------------------------------------------------------------------

/** A port on 127.0.0.1 that nothing listens on (free a moment ago): connecting to it is refused. */
function refusedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** A TCP server that accepts and never writes, closing each connection once its peer does. */
function silentServer(): { port: number; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      (async () => {
        const buf = new Uint8Array(4096);
        try {
          while (await conn.read(buf) !== null) { /* discard */ }
        } catch { /* reset or closed by close() */ }
        conns.delete(conn);
        try {
          conn.close();
        } catch { /* closed by close() */ }
      })();
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* already closed */ }
      }
    },
  };
}

/** A TCP server that answers every connection with `reply` (maybe nothing) and closes it at once. */
function replyAndCloseServer(reply: string): { port: number; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  (async () => {
    for await (const conn of listener) {
      (async () => {
        try {
          if (reply) await conn.write(new TextEncoder().encode(reply));
        } catch { /* the client went first */ }
        conn.close();
      })();
    }
  })().catch(() => {});
  return { port: (listener.addr as Deno.NetAddr).port, close: () => listener.close() };
}

interface World {
  f: PoolFixture;
  sshd: Sshd;
  echo: { port: number; close(): void };
  /** Ports of every server the test made (for the TCP count); tests add theirs. */
  ports: number[];
  counters: Counters;
  /** Points instance 1 at the harness sshd again. */
  home(): void;
  close(): Promise<void>;
}

async function world(opts: { ssh?: Partial<SshOptions>; targets?: (echoPort: number) => TunnelTarget[] } = {}) {
  const echo = echoServer();
  const targets = opts.targets?.(echo.port) ?? [{ name: "echo", host: "127.0.0.1", port: echo.port }];
  const f = await poolFixture({ targets, ssh: opts.ssh, limits: LIMITS });
  const cleanup: (() => Promise<unknown> | unknown)[] = [() => echo.close(), () => f.close()];
  const close = async () => {
    for (const c of cleanup.reverse()) await Promise.resolve().then(c).catch(() => {});
  };
  try {
    const sshd = await startSshd({ authorizedKeys: [authorizedLine(f.keys.publicKey, targets)] });
    cleanup.push(() => sshd.close());
    const ports = [sshd.port, echo.port, ...targets.map((t) => t.port)];
    const home = () => f.endpoints.set(1, { host: sshd.host, port: sshd.port, username: sshd.user });
    home();
    const w: World = { f, sshd, echo, ports, counters: counters(f.pool, () => ports), home, close };
    return w;
  } catch (e) {
    await close();
    throw e;
  }
}

/** Runs `fn` in a fresh world (sanitizers off: the world's sshd and connections span the test). */
function leakTest(name: string, fn: (w: World) => Promise<void>, opts: Parameters<typeof world>[0] = {}) {
  Deno.test({
    name,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const w = await world(opts);
      try {
        await fn(w);
      } finally {
        await w.close();
      }
    },
  });
}

/** `settledHold`, failing instead of waiting for ever when the counts never stop changing. */
async function settled(counters: Counters): Promise<Hold> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      settledHold(counters),
      new Promise<never>((_, reject) =>
        timer = setTimeout(() => reject(new Error("the counts did not settle within 30 s")), 30_000)
      ),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
const baseline = (w: World): Promise<Hold> => settled(w.counters);
const backAt = (w: World, base: Hold, what: string) => assertHoldsNoMore(base, what, w.counters, SETTLE_MS);

/** Writes `text` into a tunnel and resolves with what comes back first. */
function roundTrip(stream: Duplex, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    stream.once("data", (d: Uint8Array) => resolve(new TextDecoder().decode(d)));
    stream.once("error", reject);
    stream.write(text);
  });
}

/** Resolves once `channel` emits close (ssh2 ends every channel of a connection that goes). */
function closed(channel: { once(e: "close", cb: () => void): unknown; resume?(): unknown }): Promise<void> {
  const done = new Promise<void>((r) => channel.once("close", () => r()));
  channel.resume?.();
  return done;
}

/** Opens every kind of channel at once on the current connection; `allClosed` resolves when all have closed. */
async function openEveryKind(pool: SshPool): Promise<{ allClosed: Promise<void> }> {
  const tunnel = await pool.openTunnel(1, "echo");
  assert.equal(await roundTrip(tunnel, "ping"), "ping");
  const conn = pool.current(1)!;
  const stream = await conn.execStream("tail -f /dev/null");
  const pty = await pool.shell(1, { cols: 80, rows: 24 });
  const sftp = await pool.sftp(1);
  assert.deepEqual(pool.openChannels(), { exec: 0, stream: 1, pty: 1, sftp: 1, tunnel: 1 });
  return { allClosed: Promise.all([closed(tunnel), closed(stream), closed(pty), closed(sftp)]).then(() => {}) };
}

// ---------------------------------------------------------------------------------------------
// 1. Forced reconnects (the pool's reconnect API, as POST /ssh-reconnect calls it) with channels open
// ---------------------------------------------------------------------------------------------

leakTest("SSH pool: forced reconnects with every kind of channel open leave no socket or channel behind", async (w) => {
  const { pool } = w.f;
  pool.start(1);
  await until(() => pool.status(1).state === "connected", WAIT_MS, "connected");
  const round = async (n: number) => {
    const first = pool.current(1)!;
    const { allClosed } = await openEveryKind(pool);
    const r = await pool.reconnect(1);
    assert.equal(r.status, "ok", r.error ?? "");
    assert.notEqual(pool.current(1), first, "a new connection");
    await allClosed; // ssh2 ended every channel of the old connection
    await until(() => first.closed, WAIT_MS, "the old connection to close");
    assert.equal((await pool.exec(1, `echo round-${n}`)).stdout, `round-${n}\n`);
  };
  await round(0); // warm-up
  const base = await baseline(w);
  for (let n = 1; n <= ROUNDS; n++) await round(n);
  await backAt(w, base, `${ROUNDS} forced reconnects with a tunnel, a stream, a PTY and SFTP open`);
  assert.equal(pool.status(1).state, "connected");
  assert.equal(
    w.f.events.list(1, 200).filter((e) => e.type === "connected").length,
    ROUNDS + 2,
    "one connection per round",
  );
});

// ---------------------------------------------------------------------------------------------
// 1b. Forced reconnects away from a hung session (its sshd processes stopped, as in a paused
//     container): the old connection's socket must go although its peer never answers the disconnect
// ---------------------------------------------------------------------------------------------

/** Host PIDs of sshd's listener and every process under it (all started by this test). */
function sshdProcesses(sshd: Sshd): number[] {
  const listener = [...Deno.readDirSync("/proc")].map((e) => Number(e.name)).find((pid) => {
    try {
      return Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0")[0].startsWith("sshd: ") &&
        Deno.readTextFileSync(`/proc/${pid}/cmdline`).includes(`${sshd.dir}/sshd_config`);
    } catch {
      return false;
    }
  });
  if (!listener) throw new Error("sshd's listener process not found");
  const all: number[] = [];
  const walk = (pid: number) => {
    all.push(pid);
    for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
      const children = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/children`).trim();
      if (children) children.split(/\s+/).map(Number).forEach(walk);
    }
  };
  walk(listener);
  return all;
}

leakTest(
  "SSH pool: forced reconnects away from hung sessions (sshd stopped with SIGSTOP) leave no socket behind",
  async (w) => {
    const { pool } = w.f;
    const listener = sshdProcesses(w.sshd)[0];
    const frozen = new Set<number>();
    try {
      await pool.connect(1);
      const round = async (n: number) => {
        const first = pool.current(1)!;
        // The current connection's session: every process under the listener not frozen yet.
        const session = sshdProcesses(w.sshd).filter((pid) => pid !== listener && !frozen.has(pid));
        assert.ok(session.length > 0, "the session's processes");
        for (const pid of session) {
          Deno.kill(pid, "SIGSTOP");
          frozen.add(pid);
        }
        const r = await pool.reconnect(1, 1);
        assert.equal(r.status, "ok", r.error ?? "");
        assert.notEqual(pool.current(1), first);
        assert.equal((await pool.exec(1, `echo round-${n}`)).stdout, `round-${n}\n`);
      };
      await round(0); // warm-up
      // The warm-up's hung connection may still be going (see below): the baseline counts it as gone.
      await new Promise((r) => setTimeout(r, CLOSE_GRACE_MS));
      // Not the kernel's TCP list: the stopped sessions hold their ends until they run again.
      const { "TCP connections with the test servers": _, ...counts } = w.counters;
      const base = await settled(counts);
      for (let n = 1; n <= ROUNDS; n++) await round(n);
      // Our side sent its disconnect and FIN; a peer that never answers is hung up on after a grace period.
      await assertHoldsNoMore(base, `${ROUNDS} reconnects away from hung sessions`, counts, CLOSE_GRACE_MS + SETTLE_MS);
    } finally {
      for (const pid of frozen) {
        try {
          Deno.kill(pid, "SIGCONT");
        } catch { /* gone */ }
      }
    }
  },
);

// ---------------------------------------------------------------------------------------------
// 2. sshd killed (its sessions with it) and restarted under a started instance: the pool notices,
//    its reconnect loop retries against the refused port, and connects again once sshd is back
// ---------------------------------------------------------------------------------------------

leakTest("SSH pool: sshd killed and restarted leaves no socket or channel behind", async (w) => {
  const { pool } = w.f;
  pool.start(1);
  await until(() => pool.status(1).state === "connected", WAIT_MS, "connected");
  const round = async (n: number) => {
    const first = pool.current(1)!;
    const { allClosed } = await openEveryKind(pool);
    await w.sshd.stop();
    await until(() => pool.status(1).state === "reconnecting", WAIT_MS, `round ${n}: the drop noticed`);
    await allClosed;
    // Let the reconnect loop fail against the refused port a few times (50, 100, 200 ms delays).
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(pool.status(1).state, "reconnecting");
    await w.sshd.start();
    await until(() => pool.status(1).state === "connected", WAIT_MS, `round ${n}: reconnected`);
    assert.notEqual(pool.current(1), first);
    assert.equal((await pool.exec(1, `echo round-${n}`)).stdout, `round-${n}\n`);
  };
  await round(0); // warm-up
  const base = await baseline(w);
  for (let n = 1; n <= ROUNDS; n++) await round(n);
  await backAt(w, base, `${ROUNDS} sshd kills and restarts`);
  assert.ok(
    w.f.audit.query({ action: "ssh.reconnect", limit: 1, offset: 0 }).total >= ROUNDS + 1,
    "each came back through the reconnect loop",
  );
});

// ---------------------------------------------------------------------------------------------
// 3. Connects that fail: refused port, a pinned host key another sshd does not have, a login sshd
//    refuses, a peer that closes at once, one that is no SSH server, one that never answers
// ---------------------------------------------------------------------------------------------

leakTest(
  "SSH pool: failed connects (refused, wrong host key, login refused, closed, not SSH, silent) leave no socket behind",
  async (w) => {
    const { pool, endpoints } = w.f;
    const otherKey = generateKeyPair("impostor");
    const impostor = await startSshd({
      authorizedKeys: [w.f.keys.publicKey],
      hostKey: { private: otherKey.privateKey, public: otherKey.publicKey },
    });
    const hangUp = replyAndCloseServer("");
    const http = replyAndCloseServer("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    const silent = silentServer();
    const refused = refusedPort();
    w.ports.push(impostor.port, hangUp.port, http.port, silent.port, refused);
    const at = (port: number, username = w.sshd.user) => endpoints.set(1, { host: "127.0.0.1", port, username });
    const failures: [string, () => void, RegExp][] = [
      ["refused port", () => at(refused), /ECONNREFUSED|refused/i],
      ["wrong host key", () => at(impostor.port), /pinned/],
      ["login refused", () => at(w.sshd.port, "claworc-nobody"), /authentication methods failed/i],
      ["closed at once", () => at(hangUp.port), /closed|lost|ended/i],
      ["not an SSH server", () => at(http.port), /identification|protocol|closed|lost/i],
      ["never answers", () => at(silent.port), /timed out/i],
    ];
    try {
      const round = async (n: number) => {
        pool.stop(1);
        for (const [what, point, error] of failures) {
          point();
          // Through both entry points: reconnect (by hand; it clears a host-key refusal) and connect (on
          // demand; after a host-key refusal it refuses without dialling, by design).
          const r = await pool.reconnect(1, 1);
          assert.equal(r.status, "error", what);
          assert.match(r.error ?? "", error, `round ${n}, ${what} (reconnect)`);
          if (what === "never answers") continue; // the same path once more, only slower
          await assert.rejects(pool.connect(1), (e) => {
            assert.ok(e instanceof AppError, `${what}: ${e}`);
            assert.match(e.message, error, `round ${n}, ${what}`);
            return true;
          });
        }
        w.home();
        const r = await pool.reconnect(1, 1);
        assert.equal(r.status, "ok", r.error ?? "");
        assert.equal((await pool.exec(1, `echo round-${n}`)).stdout, `round-${n}\n`);
      };
      await pool.connect(1); // pins the real sshd's host key
      await round(0); // warm-up
      const base = await baseline(w);
      for (let n = 1; n <= ROUNDS; n++) await round(n);
      await backAt(w, base, `${ROUNDS} rounds of ${failures.length} kinds of failed connect, by reconnect and connect`);
      assert.equal(
        w.f.events.list(1, 200).filter((e) => e.type === "host_key_mismatch").length,
        ROUNDS + 1,
        "one per reconnect: a connect after it refuses without dialling",
      );
    } finally {
      hangUp.close();
      http.close();
      silent.close();
      await impostor.close();
    }
  },
  // Short enough for the silent peer's rounds, long enough for a real handshake on a busy machine.
  { ssh: { readyTimeoutMs: 1_500 } },
);

// ---------------------------------------------------------------------------------------------
// 4. Health: command and tunnel probes, healthy and failing (refused target, silent target that
//    times out), then the scheduler running for a while at FAST timings
// ---------------------------------------------------------------------------------------------

/** The silent tunnel target of the next test (made with its world's targets, closed by the test). */
let silentTarget: { port: number; close(): void } | undefined;

leakTest(
  "SSH pool: command and tunnel probes, passing, refused and timing out, leave no channel or socket behind",
  async (w) => {
    const { pool } = w.f;
    await pool.connect(1);
    const round = async () => {
      await pool.probeAll();
      await pool.probeTunnels();
    };
    try {
      await round(); // warm-up
      const base = await baseline(w);
      for (let n = 1; n <= ROUNDS; n++) await round();
      const tunnels = Object.fromEntries(pool.status(1).tunnels.map((t) => [t.label, t]));
      assert.equal(tunnels.echo.successful_checks, ROUNDS + 1);
      assert.equal(tunnels.refused.failed_checks, ROUNDS + 1);
      assert.match(tunnels.refused.error ?? "", /SSH channel failed/);
      assert.equal(tunnels.silent.failed_checks, ROUNDS + 1);
      assert.match(tunnels.silent.error ?? "", /no answer within/);
      assert.equal(pool.status(1).metrics?.successful_checks, ROUNDS + 1);
      await backAt(w, base, `${ROUNDS} rounds of command and tunnel probes`);
    } finally {
      silentTarget?.close();
    }
  },
  {
    ssh: { tunnelProbeTimeoutMs: 300 },
    targets: (echoPort) => {
      silentTarget = silentServer();
      return [
        { name: "echo", host: "127.0.0.1", port: echoPort },
        { name: "refused", host: "127.0.0.1", port: refusedPort() },
        { name: "silent", host: "127.0.0.1", port: silentTarget.port, banner: /^never/ },
      ];
    },
  },
);

leakTest("SSH pool: the health scheduler running for a while at FAST timings does not grow", async (w) => {
  const { pool } = w.f;
  pool.start(1);
  await until(() => pool.status(1).state === "connected", WAIT_MS, "connected");
  // Warm-up: one probe of each layer. The baseline is taken before the scheduler starts: once it runs,
  // some probe is often in flight, and a leak would keep the counts from ever settling.
  await pool.probeAll();
  await pool.probeTunnels();
  const base = await baseline(w);
  pool.startHealth();
  const checks = () => pool.status(1).metrics?.successful_checks ?? 0;
  const tunnelChecks = () => pool.status(1).tunnels[0].successful_checks;
  const [c0, t0] = [checks(), tunnelChecks()];
  await new Promise((r) => setTimeout(r, 6_000));
  // 300 ms periods: about 20 of each in 6 s; a loaded machine may fall behind a little.
  assert.ok(checks() - c0 >= 10, `${checks() - c0} command probes`);
  assert.ok(tunnelChecks() - t0 >= 10, `${tunnelChecks() - t0} tunnel probes`);
  // Between two probes the counts are back at the baseline (the check polls for such a moment).
  await backAt(w, base, `${checks() - c0} command and ${tunnelChecks() - t0} tunnel probes by the scheduler`);
  assert.equal(pool.status(1).state, "connected");
  assert.equal(pool.status(1).metrics?.failed_checks, 0);
});

Deno.test("SSH exec: the time limit covers opening the channel, so a hung instance answers SSH_TIMEOUT in time", async () => {
  // Keepalive far away: only the command's own limit can end the wait.
  const f = await poolFixture({ ssh: { keepaliveIntervalMs: 60_000 } });
  const sshd = await startSshd({ authorizedKeys: [f.keys.publicKey] });
  const frozen: number[] = [];
  try {
    f.endpoints.set(1, { host: sshd.host, port: sshd.port, username: sshd.user });
    const conn = await f.pool.connect(1);
    assert.equal((await conn.exec("echo up")).stdout, "up\n");
    const listener = sshdProcesses(sshd)[0];
    for (const pid of sshdProcesses(sshd).filter((p) => p !== listener)) {
      Deno.kill(pid, "SIGSTOP");
      frozen.push(pid);
    }
    const started = performance.now();
    const outcome = await Promise.race([
      conn.exec("echo never", { timeoutMs: 500 }).then(() => "answered", (e) => (e as AppError).code),
      new Promise((r) => setTimeout(() => r("still waiting after 5 s"), 5_000)),
    ]);
    assert.equal(outcome, "SSH_TIMEOUT");
    assert.ok(performance.now() - started < 2_000, `${Math.round(performance.now() - started)} ms`);
  } finally {
    for (const pid of frozen) {
      try {
        Deno.kill(pid, "SIGCONT");
      } catch { /* gone */ }
    }
    await f.close();
    await sshd.close();
  }
});
