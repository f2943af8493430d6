/**
 * The real control plane as a child process for the scale bench (test-only, never shipped):
 *
 *   deno run -A tests/harness/scale/serve_scale.ts seed  <spec.json>   # data folder, admin, instance rows
 *   deno run -A tests/harness/scale/serve_scale.ts serve <spec.json>   # startServer, then commands on stdin
 *
 * `seed` opens the data folder as the product does (database, master key, the SSH key pair), creates the
 * admin once, adds a row for every spec instance that has none, marked `running` (as if the previous
 * process had left them running), and prints `{"publicKey": ...}`.
 *
 * `serve` runs startServer with the built-in plugins minus docker and kubernetes, plus the scale backend
 * (backend.ts) over the spec's endpoints, and the spec's SSH timings (startServer hands its options to
 * openServices, which takes `ssh`; the entry point checks they took effect). It prints one JSON line
 * `{"ready": true, "url", "pid", "sshOptionsApplied"}`, then answers one JSON line per JSON command read on
 * stdin (`{"id", "op", ...}` → `{"id", "ok", "result" | "error"}`). SIGTERM/SIGINT close the server the way
 * the CLI does; so does stdin closing (the bench is gone).
 *
 * Instrumentation (in-process, read through commands, never served over HTTP): an event-loop lag sampler,
 * and a wrapper around SshConnection's `exec`/`connect` that times every command probe (`echo ping`) and
 * remembers, per connection, when it came up and when its last good probe finished, the harness's own
 * view of probe latency and missed periods beside the `/metrics` families.
 */
import { loadConfig } from "../../../core/config.ts";
import { openServices } from "../../../core/boot.ts";
import { createLogger, type LogLevel } from "../../../core/log.ts";
import type { SshEndpoint } from "../../../core/plugins/runtime_backend.ts";
import { type RunningServer, startServer } from "../../../core/server.ts";
import { SshConnection } from "../../../core/ssh/connection.ts";
import type { SshOptions } from "../../../core/ssh/options.ts";
import { builtinPlugins } from "../../../plugins/mod.ts";
import { coreRoutes, errorPage } from "../../../routes/mod.ts";
import { scaleBackend } from "./backend.ts";
import { lines } from "../lines.ts";

/** What the bench writes for the child. */
export interface ScaleSpec {
  dataPath: string;
  /** 0: any free port (the ready line says which). */
  port: number;
  logLevel?: LogLevel;
  /** SSH timings (core/ssh/options.ts); the bench shortens the probe periods. */
  ssh?: Partial<SshOptions>;
  admin: { username: string; password: string };
  instances: { name: string; endpoint: SshEndpoint }[];
}

/** A command the bench sends on stdin. */
export type ScaleCommand =
  | { op: "connected" }
  | { op: "lag"; reset?: boolean }
  | { op: "probes"; reset?: boolean }
  | { op: "emit"; name: string; status: "running" | "stopped" | "error"; reason?: string }
  | { op: "fail"; names: string[]; on: boolean }
  | { op: "endpoint_calls"; names: string[]; reset?: boolean }
  | { op: "memory" };

const PROBE_COMMAND = "echo ping";

function percentile(sorted: number[], p: number): number | null {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

const round1 = (x: number | null) => x === null ? null : Math.round(x * 10) / 10;

async function seed(spec: ScaleSpec): Promise<void> {
  const config = loadConfig((n) => ({ CLAWORC_DATA_PATH: spec.dataPath, CLAWORC_LOG_LEVEL: "warn" })[n]);
  const s = await openServices(config, { log: createLogger("warn") });
  try {
    if (s.users.count() === 0) await s.users.create(spec.admin.username, spec.admin.password, "admin");
    s.db.transaction(() => {
      for (const inst of spec.instances) {
        if (s.instances.findByName(inst.name)) continue;
        const row = s.instances.insert(inst.name, inst.name);
        s.db.run("UPDATE instances SET status = 'running' WHERE id = ?", row.id);
      }
    });
    console.log(JSON.stringify({ publicKey: s.sshKeys.publicKey, instances: s.instances.all().length }));
  } finally {
    s.db.close();
  }
}

/** Per-connection probe record kept by the instrumentation. */
interface ConnProbes {
  upAt: number;
  lastOkAt: number;
  count: number;
}

function instrumentProbes(probeIntervalMs: number) {
  const byConn = new WeakMap<SshConnection, ConnProbes>();
  let latencies: number[] = [];
  let failures = 0;
  const originalConnect = SshConnection.connect;
  SshConnection.connect = function (opts) {
    return originalConnect.call(SshConnection, opts).then((conn) => {
      byConn.set(conn, { upAt: performance.now(), lastOkAt: 0, count: 0 });
      return conn;
    });
  };
  const originalExec = SshConnection.prototype.exec;
  SshConnection.prototype.exec = function (this: SshConnection, command, opts) {
    const result = originalExec.call(this, command, opts);
    if (command !== PROBE_COMMAND) return result;
    const started = performance.now();
    result.then((r) => {
      const ended = performance.now();
      if (r.stdout.trim() !== "ping") return void failures++;
      latencies.push(ended - started);
      const rec = byConn.get(this);
      if (rec) {
        rec.lastOkAt = ended;
        rec.count++;
      }
    }, () => failures++);
    return result;
  };
  let windowStart = performance.now();
  let counts0 = new WeakMap<SshConnection, number>();
  let maxOverdue = 0;
  return {
    /** Connected links whose last good probe (or connection, before any) is older than 1.5 periods. */
    overdue(conns: SshConnection[]): number {
      const now = performance.now();
      let n = 0;
      for (const c of conns) {
        const rec = byConn.get(c);
        if (rec && now - (rec.lastOkAt || rec.upAt) > 1.5 * probeIntervalMs) n++;
      }
      maxOverdue = Math.max(maxOverdue, n);
      return n;
    },
    reset(conns: SshConnection[]): void {
      latencies = [];
      failures = 0;
      maxOverdue = 0;
      windowStart = performance.now();
      counts0 = new WeakMap();
      for (const c of conns) counts0.set(c, byConn.get(c)?.count ?? 0);
    },
    /**
     * Since the last reset: probe latencies, failures, the most links seen overdue at once, and missed
     * periods (per link connected throughout, whole periods of the window minus one for phase, minus
     * the good probes it had).
     */
    summary(conns: SshConnection[]) {
      const now = performance.now();
      const periods = Math.floor((now - windowStart) / probeIntervalMs);
      let missed = 0;
      let expected = 0;
      for (const c of conns) {
        const rec = byConn.get(c);
        const before = counts0.get(c);
        if (!rec || before === undefined) continue;
        const want = Math.max(0, periods - 1);
        expected += want;
        missed += Math.max(0, want - (rec.count - before));
      }
      const overdueNow = this.overdue(conns);
      const sorted = [...latencies].sort((a, b) => a - b);
      return {
        window_ms: Math.round(now - windowStart),
        probes: sorted.length,
        failures,
        p50_ms: round1(percentile(sorted, 0.5)),
        p99_ms: round1(percentile(sorted, 0.99)),
        max_ms: round1(sorted.at(-1) ?? null),
        overdue_now: overdueNow,
        overdue_max: maxOverdue,
        missed_periods: missed,
        expected_periods: expected,
      };
    },
  };
}

/** Event-loop lag: how late a 50 ms timer fires, sampled continuously. */
function lagSampler() {
  const EVERY = 50;
  let samples: number[] = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    samples.push(Math.max(0, now - last - EVERY));
    last = now;
    if (samples.length > 100_000) samples = samples.slice(-50_000);
  }, EVERY);
  return {
    summary(reset: boolean) {
      const sorted = [...samples].sort((a, b) => a - b);
      if (reset) samples = [];
      return {
        samples: sorted.length,
        p50_ms: round1(percentile(sorted, 0.5)),
        p99_ms: round1(percentile(sorted, 0.99)),
        max_ms: round1(sorted.at(-1) ?? null),
      };
    },
    stop: () => clearInterval(timer),
  };
}

async function serve(spec: ScaleSpec): Promise<void> {
  const probeIntervalMs = spec.ssh?.probeIntervalMs ?? 30_000;
  const probes = instrumentProbes(probeIntervalMs);
  const { plugin, control } = scaleBackend(spec.instances);
  const config = loadConfig((n) =>
    ({
      CLAWORC_DATA_PATH: spec.dataPath,
      CLAWORC_HOST: "127.0.0.1",
      CLAWORC_PORT: String(spec.port),
      CLAWORC_LOG_LEVEL: spec.logLevel ?? "warn",
    })[n]
  );
  // startServer's options are typed `{ log }` but are handed to openServices as they are, which takes `ssh`.
  const options: Parameters<typeof startServer>[2] & { ssh?: Partial<SshOptions> } = {
    log: createLogger(spec.logLevel ?? "warn"),
    ssh: spec.ssh,
  };
  const plugins = [...builtinPlugins().filter((p) => p.name !== "docker" && p.name !== "kubernetes"), plugin];
  const server: RunningServer = await startServer(config, { routes: coreRoutes, plugins, errorPage }, options);
  const lag = lagSampler();
  const applied = (server.services.ssh as unknown as { deps?: { options?: SshOptions } }).deps?.options;
  const sshOptionsApplied = spec.ssh
    ? Object.entries(spec.ssh).every(([k, v]) => JSON.stringify(applied?.[k as keyof SshOptions]) === JSON.stringify(v))
    : true;

  // Ids of the spec's rows, looked up once (commands must stay cheap: they run on the measured event loop).
  const ids = new Map<string, number>();
  for (const inst of spec.instances) {
    const row = server.services.instances.findByName(inst.name);
    if (row) ids.set(inst.name, row.id);
  }
  const liveConns = () => {
    const conns: SshConnection[] = [];
    for (const id of ids.values()) {
      const c = server.services.ssh.current(id);
      if (c) conns.push(c);
    }
    return conns;
  };
  const overdueTimer = setInterval(() => probes.overdue(liveConns()), 1_000);

  // server.close() runs detach → HTTP shutdown → SSH pool close → plugins' close → database close; each
  // step is logged with its time so a slow shutdown says where it waited.
  const closeStarted = { at: 0 };
  const trace = (step: string) =>
    closeStarted.at && console.error(JSON.stringify({
      level: "info",
      msg: "scale child: close step",
      step,
      after_ms: Math.round(performance.now() - closeStarted.at),
    }));
  const s = server.services;
  for (
    const [obj, method, step] of [
      [s.lifecycle, "detach", "lifecycle.detach (next: HTTP server shutdown)"],
      [s.ssh, "close", "HTTP server shut down; ssh.close"],
      [server.host, "close", "plugins close"],
      [s.db, "close", "plugins closed; db.close"],
    ] as const
  ) {
    const target = obj as unknown as Record<string, (...a: unknown[]) => unknown>;
    const original = target[method].bind(obj);
    target[method] = (...a: unknown[]) => {
      trace(step);
      return original(...a);
    };
  }

  let closing: Promise<void> | null = null;
  const shutdown = (code: number) =>
    closing ??= (async () => {
      const started = closeStarted.at = performance.now();
      clearInterval(overdueTimer);
      lag.stop();
      try {
        await server.close();
      } catch (e) {
        console.error(JSON.stringify({ level: "error", msg: "scale child: close failed", error: String(e) }));
        code = 1;
      }
      console.error(
        JSON.stringify({ level: "info", msg: "scale child closed", close_ms: Math.round(performance.now() - started) }),
      );
      Deno.exit(code);
    })();
  Deno.addSignalListener("SIGTERM", () => void shutdown(0));
  Deno.addSignalListener("SIGINT", () => void shutdown(0));

  const run = (cmd: ScaleCommand): unknown => {
    switch (cmd.op) {
      case "connected":
        return { connected: liveConns().length, total: ids.size };
      case "lag":
        return lag.summary(Boolean(cmd.reset));
      case "probes": {
        const conns = liveConns();
        const summary = probes.summary(conns);
        if (cmd.reset) probes.reset(conns);
        return summary;
      }
      case "emit":
        return { watched: control.emit(cmd.name, { status: cmd.status, reason: cmd.reason }) };
      case "fail":
        control.setFailing(cmd.names, cmd.on);
        return {};
      case "endpoint_calls": {
        const calls = control.endpointCalls(cmd.names);
        if (cmd.reset) control.resetEndpointCalls();
        return { calls };
      }
      case "memory":
        return Deno.memoryUsage();
    }
  };

  // One write per line, starting on a fresh line: V8 diagnostics (--trace-gc) print to the same stdout from a
  // buffer that may end mid-line; a single write of at most PIPE_BUF bytes is never split by them.
  const encoder = new TextEncoder();
  const send = (line: string) => Deno.stdout.write(encoder.encode(`\n${line}\n`));
  await send(JSON.stringify({ ready: true, url: server.url, pid: Deno.pid, sshOptionsApplied }));
  for await (const line of lines(Deno.stdin.readable)) {
    let id: unknown = null;
    let answer: string;
    try {
      const cmd = JSON.parse(line) as ScaleCommand & { id: unknown };
      id = cmd.id;
      answer = JSON.stringify({ id, ok: true, result: run(cmd) });
    } catch (e) {
      answer = JSON.stringify({ id, ok: false, error: String(e) });
    }
    await send(answer);
  }
  await shutdown(0);
}

if (import.meta.main) {
  const [mode, specPath] = Deno.args;
  if ((mode !== "seed" && mode !== "serve") || !specPath) {
    console.error("usage: serve_scale.ts seed|serve <spec.json>");
    Deno.exit(2);
  }
  const spec = JSON.parse(await Deno.readTextFile(specPath)) as ScaleSpec;
  if (mode === "seed") {
    await seed(spec);
    Deno.exit(0);
  }
  await serve(spec);
}
