import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { AppError } from "../../../core/errors.ts";
import { authorizedLine } from "../../../core/ssh/authorized_line.ts";
import { generateKeyPair } from "../../../core/ssh/key_store.ts";
import type { TunnelTarget } from "../../../core/ssh/tunnel_targets.ts";
import type { SshOptions } from "../../../core/ssh/options.ts";
import { freePort, startSshd } from "../../harness/sshd.ts";
import { echoServer, poolFixture, until } from "../../harness/pool.ts";

/** One pool, one sshd that accepts the pool's key restricted to an echo target. */
async function setup(opts: { ssh?: Partial<SshOptions>; banner?: RegExp } = {}) {
  const echo = echoServer();
  const targets: TunnelTarget[] = [{ name: "echo", host: "127.0.0.1", port: echo.port, banner: opts.banner }];
  // Generous limits: these tests are about connections, the limiter has its own test below.
  const f = await poolFixture({ targets, ssh: opts.ssh, limits: { maxAttempts: 1000, failuresToBlock: 1000 } });
  const sshd = await startSshd({ authorizedKeys: [authorizedLine(f.keys.publicKey, targets)] });
  f.endpoints.set(1, { host: sshd.host, port: sshd.port, username: sshd.user });
  return {
    f,
    sshd,
    echo,
    async close() {
      await f.close();
      await sshd.close();
      echo.close();
    },
  };
}

async function roundTrip(stream: import("node:stream").Duplex, text: string): Promise<string> {
  return await new Promise((resolve, reject) => {
    stream.once("data", (d: Buffer) => resolve(d.toString()));
    stream.once("error", reject);
    stream.write(text);
  });
}

Deno.test("one connection carries exec, a PTY shell, SFTP and tunnels, pinning the host key on first use", async () => {
  const t = await setup();
  try {
    const r = await t.f.pool.exec(1, "echo hello; echo oops >&2; exit 3");
    assert.deepEqual(r, { stdout: "hello\n", stderr: "oops\n", code: 3, signal: null });
    const shell = await t.f.pool.shell(1, { cols: 100, rows: 30 });
    const out: string[] = [];
    shell.on("data", (d: Buffer) => out.push(d.toString()));
    shell.write("stty size; exit\n");
    await new Promise((r) => shell.on("close", r));
    assert.match(out.join(""), /30 100/);
    const sftp = await t.f.pool.sftp(1);
    const entries = await new Promise<{ filename: string }[]>((res, rej) =>
      sftp.readdir("/", (e, l) => e ? rej(e) : res(l))
    );
    assert.ok(entries.some((e) => e.filename === "etc"));
    sftp.end();
    const tunnel = await t.f.pool.openTunnel(1, "echo");
    assert.equal(await roundTrip(tunnel, "ping through ssh"), "ping through ssh");
    tunnel.destroy();
    assert.equal(t.f.pins.get(1)?.source, "first-use");
    assert.ok(t.f.pins.get(1)!.host_key.startsWith("ssh-ed25519 "));
    assert.equal(t.f.pool.status(1).state, "connected");
    assert.equal(t.f.events.list(1).filter((e) => e.type === "connected").length, 1, "all of it on one connection");
    assert.equal(t.f.audit.query({ action: "ssh.connect", limit: 5, offset: 0 }).total, 1);
  } finally {
    await t.close();
  }
});

Deno.test("a tunnel probe still waiting when the pool and its database close reports nothing and throws nothing", async () => {
  // The echo server never speaks first, so a probe that waits for a banner hangs until its timeout.
  const t = await setup({ banner: /^never/, ssh: { tunnelProbeTimeoutMs: 5_000 } });
  try {
    await t.f.pool.connect(1);
    const probing = t.f.pool.probeTunnels();
    await new Promise((r) => setTimeout(r, 200));
    await t.f.close();
    // Rejected with "database is not open" when the late result was still recorded.
    assert.equal(await probing, undefined);
  } finally {
    await t.sshd.close();
    t.echo.close();
  }
});

Deno.test("50 concurrent callers share one connect attempt", async () => {
  const t = await setup();
  try {
    const conns = await Promise.all(Array.from({ length: 50 }, () => t.f.pool.connect(1)));
    assert.equal(new Set(conns).size, 1);
    assert.equal((await t.sshd.log()).match(/Accepted publickey/g)?.length, 1, "sshd saw one login");
  } finally {
    await t.close();
  }
});

Deno.test("100 MB through a tunnel arrive byte-exact", async () => {
  const t = await setup();
  try {
    const tunnel = await t.f.pool.openTunnel(1, "echo");
    const chunk = new Uint8Array(1 << 20);
    for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31 + 7) & 0xff;
    const sent = createHash("sha256");
    const got = createHash("sha256");
    let received = 0;
    const total = 100 * chunk.length;
    const done = new Promise<void>((resolve) =>
      tunnel.on("data", (d: Buffer) => {
        got.update(d);
        received += d.length;
        if (received >= total) resolve();
      })
    );
    const started = performance.now();
    for (let i = 0; i < 100; i++) {
      sent.update(chunk);
      if (!tunnel.write(chunk)) await new Promise((r) => tunnel.once("drain", r));
    }
    await done;
    const seconds = (performance.now() - started) / 1000;
    console.log(`100 MB echoed through the tunnel in ${seconds.toFixed(2)} s`);
    assert.equal(received, total);
    assert.equal(got.digest("hex"), sent.digest("hex"));
    tunnel.destroy();
  } finally {
    await t.close();
  }
});

Deno.test("a requested reconnect that fails leaves no stale state: a started instance goes on being retried", async () => {
  const t = await setup();
  try {
    t.f.pool.start(1);
    await until(() => t.f.pool.status(1).state === "connected", 10_000, "connected");
    // New connections are refused (nothing listens there) while the current one is still up.
    const reachable = t.f.endpoints.get(1)!;
    t.f.endpoints.set(1, { ...reachable, port: freePort() });
    const answer = await t.f.pool.reconnect(1, 1);
    assert.equal(answer.status, "error");
    assert.equal(t.f.pool.current(1), undefined, "the old connection is gone");
    assert.equal(t.f.pool.status(1).state, "reconnecting", "not shown as connected with no connection");
    t.f.endpoints.set(1, reachable);
    await until(() => t.f.pool.status(1).state === "connected", 10_000, "reconnected by the background loop");
    assert.equal((await t.f.pool.current(1)!.exec("echo back")).stdout, "back\n");
  } finally {
    await t.close();
  }
});

Deno.test("an on-demand connect that fails (a stopped instance's tab) does not make the instance active", async () => {
  const t = await setup();
  try {
    const reachable = t.f.endpoints.get(1)!;
    t.f.endpoints.set(1, { ...reachable, port: freePort() }); // nothing listens: as a stopped instance
    await assert.rejects(t.f.pool.connect(1));
    // Key rotation and the terminal reaper work on active instances: this one would fail rotation for good.
    assert.deepEqual(t.f.pool.activeIds(), [], "not kept connected");
    assert.equal(t.f.pool.status(1).state, "disconnected");
    // A started instance is active while it is being retried, and connected.
    t.f.pool.start(1);
    assert.deepEqual(t.f.pool.activeIds(), [1], "started: active while retried");
    t.f.endpoints.set(1, reachable);
    await until(() => t.f.pool.status(1).state === "connected", 10_000, "connected by the background loop");
    assert.deepEqual(t.f.pool.activeIds(), [1]);
  } finally {
    await t.close();
  }
});

Deno.test("sshd killed: detected, reconnected after restart, and tunnels use the new connection (no stale tunnel)", async () => {
  const t = await setup();
  try {
    t.f.pool.startHealth();
    t.f.pool.start(1);
    await until(() => t.f.pool.status(1).state === "connected", 10_000, "connected");
    const first = t.f.pool.current(1)!;
    const oldTunnel = await t.f.pool.openTunnel(1, "echo");
    // ssh2 closes every channel of a dead connection (a reader sees end, then close).
    const oldClosed = new Promise((r) => oldTunnel.once("close", r));
    oldTunnel.resume();
    await t.sshd.stop();
    const detected = await until(() => t.f.pool.status(1).state !== "connected", 3_000, "drop detected");
    console.log(`drop detected in ${Math.round(detected)} ms`);
    await oldClosed;
    await t.sshd.start();
    const back = await until(() => t.f.pool.status(1).state === "connected", 10_000, "reconnected");
    console.log(`reconnected ${Math.round(back)} ms after sshd restart`);
    assert.notEqual(t.f.pool.current(1), first);
    const tunnel = await t.f.pool.openTunnel(1, "echo");
    assert.equal(await roundTrip(tunnel, "after reconnect"), "after reconnect");
    tunnel.destroy();
    const types = t.f.events.list(1).map((e) => e.type);
    for (const type of ["connected", "disconnected", "reconnecting", "reconnected"]) {
      assert.ok(types.includes(type as never), type);
    }
    const transitions = t.f.pool.status(1).recent_events.map((e) => `${e.from}->${e.to}`);
    assert.ok(
      transitions.includes("connected->reconnecting") && transitions.includes("reconnecting->connected"),
      transitions.join(","),
    );
  } finally {
    await t.close();
  }
});

Deno.test("a different host key is refused, the instance is marked failed, and it is audited", async () => {
  const t = await setup();
  try {
    await t.f.pool.connect(1);
    t.f.pool.stop(1);
    await t.sshd.close();
    const impostor = await startSshd({
      authorizedKeys: [t.f.keys.publicKey],
      hostKey: (() => {
        const k = generateKeyPair("x");
        return { private: k.privateKey, public: k.publicKey };
      })(),
    });
    try {
      t.f.endpoints.set(1, { host: impostor.host, port: impostor.port, username: impostor.user });
      await assert.rejects(t.f.pool.connect(1), (e) => e instanceof AppError && e.code === "SSH_HOST_KEY_MISMATCH");
      assert.equal(t.f.pool.status(1).state, "failed");
      assert.equal(t.f.events.list(1).filter((e) => e.type === "host_key_mismatch").length, 1);
      const audit = t.f.audit.query({ action: "ssh.host_key_mismatch", limit: 1, offset: 0 }).entries[0];
      assert.equal(audit.outcome, "failure");
      assert.match(String(audit.details.presented), /^SHA256:/);
      await assert.rejects(t.f.pool.connect(1), /host key/, "no automatic retry against an impostor");
    } finally {
      await impostor.close();
    }
  } finally {
    await t.f.close();
    t.echo.close();
  }
});

Deno.test("the backend's expected host key wins over a first-use pin", async () => {
  const t = await setup();
  try {
    const wrong = generateKeyPair("wrong").publicKey;
    t.f.endpoints.set(1, { host: t.sshd.host, port: t.sshd.port, username: t.sshd.user, hostKey: wrong });
    await assert.rejects(t.f.pool.connect(1), (e) => e instanceof AppError && e.code === "SSH_HOST_KEY_MISMATCH");
    await t.f.pool.reconnect(1, 1);
    t.f.endpoints.set(1, {
      host: t.sshd.host,
      port: t.sshd.port,
      username: t.sshd.user,
      hostKey: t.sshd.hostPublicKey,
    });
    assert.equal((await t.f.pool.reconnect(1, 1)).status, "ok");
    assert.equal(t.f.pins.get(1)?.source, "backend");
  } finally {
    await t.close();
  }
});

Deno.test("the installed key cannot forward anywhere but its targets", async () => {
  const t = await setup();
  const other = echoServer();
  try {
    const conn = await t.f.pool.connect(1);
    const ok = await conn.forward("127.0.0.1", t.echo.port);
    ok.destroy();
    await assert.rejects(conn.forward("127.0.0.1", other.port), /SSH channel failed/);
    const shell = await t.f.pool.exec(1, "echo still-works");
    assert.equal(shell.stdout, "still-works\n");
  } finally {
    other.close();
    await t.close();
  }
});

Deno.test("a storm of failing connects is bounded by the rate limiter and audited", async () => {
  const f = await poolFixture();
  try {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (l.addr as Deno.NetAddr).port;
    l.close();
    f.endpoints.set(1, { host: "127.0.0.1", port, username: "root" });
    const codes: string[] = [];
    for (let i = 0; i < 30; i++) {
      try {
        await f.pool.connect(1);
      } catch (e) {
        codes.push((e as AppError).code);
      }
    }
    const unavailable = codes.filter((c) => c === "SSH_UNAVAILABLE").length;
    const limited = codes.filter((c) => c === "SSH_RATE_LIMITED").length;
    assert.equal(unavailable, 5, "five real attempts, then blocked");
    assert.equal(limited, 25);
    assert.ok(f.audit.query({ action: "ssh.rate_limited", limit: 1, offset: 0 }).total >= 1);
    assert.ok(f.events.list(1, 100).some((e) => e.type === "rate_limited"));
  } finally {
    await f.close();
  }
});

Deno.test("stopping or deleting an instance aborts its reconnect loop", async () => {
  const f = await poolFixture({ count: 2, limits: { maxAttempts: 1000, failuresToBlock: 1000 } });
  try {
    f.endpoints.set(1, { host: "127.0.0.1", port: 1, username: "root" });
    f.pool.start(1);
    await until(() => f.pool.status(1).state === "reconnecting", 3_000, "reconnecting");
    f.pool.stop(1);
    const count = () => f.events.list(1, 200).length;
    const before = count();
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(count(), before, "no attempts after stop");
    assert.equal(f.pool.status(1).state, "disconnected");

    f.endpoints.set(2, { host: "127.0.0.1", port: 1, username: "root" });
    f.pool.start(2);
    await until(() => f.pool.status(2).state === "reconnecting", 3_000, "instance 2 reconnecting");
    f.pool.forget(2);
    const before2 = f.events.list(2, 200).length;
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(f.events.list(2, 200).length, before2, "no attempts after delete");
    assert.ok(!f.pool.activeIds().includes(2));
  } finally {
    await f.close();
  }
});

Deno.test("the health scheduler spreads command probes over the period: each connection once, not one burst", async () => {
  const echo = echoServer();
  const targets: TunnelTarget[] = [{ name: "echo", host: "127.0.0.1", port: echo.port }];
  const f = await poolFixture({
    count: 6,
    targets,
    ssh: { probeIntervalMs: 1_200, tunnelProbeIntervalMs: 60_000 },
  });
  const sshd = await startSshd({ authorizedKeys: [authorizedLine(f.keys.publicKey, targets)] });
  try {
    for (let id = 1; id <= 6; id++) {
      f.endpoints.set(id, { host: sshd.host, port: sshd.port, username: sshd.user });
      await f.pool.connect(id);
    }
    const firstProbe = new Map<number, number>();
    const started = performance.now();
    f.pool.startHealth();
    // 1.2 s period, 12 ticks of 100 ms: instance i is probed in tick i, so one period shows six probes
    // spread over about half a second, each connection exactly once.
    while (performance.now() - started < 1_300) {
      for (let id = 1; id <= 6; id++) {
        if (!firstProbe.has(id) && f.pool.status(id).metrics!.successful_checks > 0) {
          firstProbe.set(id, performance.now() - started);
        }
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(firstProbe.size, 6, "every connection was probed in the first period");
    const times = [...firstProbe.values()];
    const spread = Math.max(...times) - Math.min(...times);
    assert.ok(spread >= 300, `probes spread over ${Math.round(spread)} ms, not one burst`);
    for (let id = 1; id <= 6; id++) {
      assert.equal(f.pool.status(id).metrics!.successful_checks, 1, `instance ${id} probed once in 1.3 s`);
    }
    assert.equal(f.pool.overdueProbes(), 0);
    assert.equal(f.pool.probeLatencies.count, 6);
    assert.ok(f.pool.probeLatencies.quantile(0.99) > 0);
  } finally {
    await f.close();
    await sshd.close();
    echo.close();
  }
});
