/**
 * Scale rows of `deno task bench` (group `scale`): how far one control plane goes with 100, 500 and 1,000
 * instances. The real control plane runs as a child process (tests/harness/scale/serve_scale.ts: the
 * built-in plugins minus docker and kubernetes, plus a test backend whose instances are endpoints of a
 * farm of real OpenSSH servers, tests/harness/scale/farm.ts, 100 instance connections per sshd, in a
 * private network namespace with stand-ins on the two tunnel targets). The bench talks to it over HTTP as
 * a browser would (admin cookie, Origin), reads its memory from /proc/<pid>/status, signals and restarts
 * it, and reads `/metrics`.
 *
 * Per size N: connect all from a start; RSS and RSS per connection; a health sweep with short periods
 * (command probe every BENCH_SCALE_PROBE_MS, default 10 s; tunnel probe every 30 s) reporting overdue
 * links, probe latency and event-loop lag (from the lead's `/metrics` families
 * `claworc_ssh_probe_overdue`, `claworc_ssh_probe_latency_ms`, `claworc_event_loop_lag_ms`, or "n/a
 * (metric missing)" beside the harness's own in-process measurement); the instance list p95; status push
 * to 50 SSE clients; a connection storm (the sshds of 200 instances stopped for a minute: API p95 during
 * it, connection attempts per instance against the rate limiter's 10 per 60 s, recovery); a SIGTERM
 * restart (reconnect all, cold start to the first 200 on /health with N rows). Plus the idle RSS with no
 * instances.
 *
 * Long: about 9 minutes for 100 + 500 + 1,000 on 2 cores (3.5 at 1,000 alone), and the farm's 1,000 sshd
 * sessions load both cores in bursts (connect, storm, restart), so it is not part of the default full run:
 * `BENCH_ONLY=scale deno task bench`, or `deno task bench --scale` for the full run plus it. Runs as root
 * (network namespaces, the sshd harness). Progress goes to stderr.
 *
 * Environment: BENCH_SCALE_SIZES (default `100,500,1000`), BENCH_SCALE_PROBE_MS (10000), BENCH_SCALE_SWEEP_S
 * (health-sweep window, 60: the lag metric's minute), BENCH_SCALE_STORM_S (60), BENCH_SCALE_STORM (instances
 * failing at once, 200), BENCH_SCALE_SSE_CLIENTS (50), BENCH_SCALE_KEEP=1 keeps the temp folder with the
 * control plane's log, BENCH_SCALE_V8_FLAGS (e.g. `--trace-gc`) goes to the control plane's V8 (output in
 * that log).
 */
import { authorizedLine } from "../core/ssh/authorized_line.ts";
import { TUNNEL_TARGETS } from "../core/ssh/tunnel_targets.ts";
import { ScaleChild, seedData, writeSpec } from "../tests/harness/scale/control_plane.ts";
import { type Farm, startFarm } from "../tests/harness/scale/farm.ts";
import type { ScaleSpec } from "../tests/harness/scale/serve_scale.ts";
import { freePort, waitFor200 } from "./_server_probe.ts";
import type { BenchRow } from "./bench_ssh.ts";

const env = (name: string, fallback: string) => Deno.env.get(name) ?? fallback;
const SIZES = env("BENCH_SCALE_SIZES", "100,500,1000").split(",").map((s) => Number(s.trim()))
  .filter((n) => Number.isInteger(n) && n > 0);
const PROBE_MS = Number(env("BENCH_SCALE_PROBE_MS", "10000"));
const TUNNEL_PROBE_MS = 30_000;
const SWEEP_MS = Number(env("BENCH_SCALE_SWEEP_S", "60")) * 1000;
const STORM_MS = Number(env("BENCH_SCALE_STORM_S", "60")) * 1000;
const STORM_SIZE = Number(env("BENCH_SCALE_STORM", "200"));
const SSE_CLIENTS = Number(env("BENCH_SCALE_SSE_CLIENTS", "50"));
const KEEP = env("BENCH_SCALE_KEEP", "") === "1";
const PUSH_TRIALS = 20;
const LIST_CALLS = 200;
/** Longest wait for "every instance connected" before the row says how many made it. */
const CONNECT_TIMEOUT_MS = 180_000;
const PER_SSHD = 100;
const SSE_STOP_GRACE_MS = 10_000;
const MB = 1 << 20;

const t0 = performance.now();
const progress = (msg: string) => console.error(`[scale +${((performance.now() - t0) / 1000).toFixed(0)}s] ${msg}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const percentile = (xs: number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : NaN;
};
const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const ms = (x: number | null | undefined) =>
  x === null || x === undefined || Number.isNaN(x) ? "n/a" : x >= 100 ? `${Math.round(x)} ms` : `${x.toFixed(1)} ms`;
const secs = (x: number) => `${(x / 1000).toFixed(1)} s`;
const mb = (bytes: number) => `${(bytes / MB).toFixed(0)} MB`;
const count = (n: number) => n.toLocaleString("en-US");
const MISSING = "n/a (metric missing)";

/** Prometheus text → samples, each with its name, labels and value. */
function parseMetrics(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  const out = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[k] = v;
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

/** The sum of the samples of `name` whose labels include `labels`; null when the family is absent. */
function metric(text: string, name: string, labels: Record<string, string> = {}): number | null {
  const found = parseMetrics(text).filter((s) =>
    s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)
  );
  return found.length ? found.reduce((a, s) => a + s.value, 0) : null;
}

/** A signed-in browser's requests: the admin cookie, the page's Origin. */
class Browser {
  constructor(public base: string, public cookie: string) {}
  headers(): HeadersInit {
    return { cookie: this.cookie, origin: this.base };
  }
  /** GET `path`; resolves with the ms until the whole body arrived (throws on a non-200). */
  async timedGet(path: string): Promise<{ ms: number; text: string }> {
    const started = performance.now();
    const res = await fetch(`${this.base}${path}`, { headers: this.headers() });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}: ${text.slice(0, 200)}`);
    return { ms: performance.now() - started, text };
  }
}

/** CPU seconds a process has used (user + system, from /proc/<pid>/stat), and the machine's busy and total seconds. */
async function cpuTimes(pid: number): Promise<{ proc: number; busy: number; total: number }> {
  const TICK = 100; // USER_HZ on Linux
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const proc = (Number(fields[11]) + Number(fields[12])) / TICK;
  const cpu = (await Deno.readTextFile("/proc/stat")).split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const total = cpu.slice(0, 8).reduce((a, b) => a + b, 0) / TICK;
  const idle = (cpu[3] + cpu[4]) / TICK;
  return { proc, busy: total - idle, total };
}

/** Established TCP connections to the control plane's HTTP port right now (from `ss`). */
async function httpConnections(browser: Browser): Promise<number> {
  const port = new URL(browser.base).port;
  const out = await new Deno.Command("ss", { args: ["-tnH", "state", "established", `sport = :${port}`] }).output();
  return new TextDecoder().decode(out.stdout).split("\n").filter((l) => l.trim()).length;
}

async function login(base: string, username: string, password: string): Promise<string> {
  const res = await fetch(`${base}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: base },
    body: JSON.stringify({ username, password }),
  });
  if (res.status !== 200) throw new Error(`login answered ${res.status}: ${await res.text()}`);
  await res.body?.cancel();
  const cookie = res.headers.getSetCookie().map((c) => c.split(";")[0]).find((c) => c.startsWith("claworc_session="));
  if (!cookie) throw new Error("login set no session cookie");
  return cookie;
}

/**
 * One browser tab's `/api/v1/events` stream; `waitFor` resolves with the performance.now() of a matching
 * event. `close` cancels the body reader itself as well as aborting the fetch: aborting alone left some
 * connections open here (the server then waits for them at shutdown).
 */
class SseClient {
  #waiters: { match: (type: string, data: Record<string, unknown>) => boolean; resolve: (at: number) => void }[] = [];
  #abort = new AbortController();
  #reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  readonly ready: Promise<void>;
  /** Resolves once the stream has ended on this side. */
  readonly done: Promise<void>;

  constructor(browser: Browser) {
    let onReady!: () => void;
    this.ready = new Promise((r) => onReady = r);
    this.#waiters.push({ match: (type) => type === "ready", resolve: () => onReady() });
    this.done = (async () => {
      const res = await fetch(`${browser.base}/api/v1/events`, {
        headers: browser.headers(),
        signal: this.#abort.signal,
      });
      if (res.status !== 200) throw new Error(`events answered ${res.status}`);
      const reader = this.#reader = res.body!.getReader();
      if (this.#abort.signal.aborted) return void await reader.cancel();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let type = "message";
          let data = "";
          for (const line of block.split("\n")) {
            if (line.startsWith("event:")) type = line.slice(6).trim();
            else if (line.startsWith("data:")) data += line.slice(5).trim();
          }
          if (!this.#waiters.length) continue;
          const at = performance.now();
          let parsed: Record<string, unknown> = {};
          try {
            parsed = data ? JSON.parse(data) : {};
          } catch { /* a comment or heartbeat */ }
          this.#waiters = this.#waiters.filter((w) => {
            if (!w.match(type, parsed)) return true;
            w.resolve(at);
            return false;
          });
        }
      }
    })().catch(() => {});
  }

  waitFor(match: (type: string, data: Record<string, unknown>) => boolean): Promise<number> {
    return new Promise((resolve) => this.#waiters.push({ match, resolve }));
  }

  /** Ends the stream; resolves once it has ended here. */
  async close(): Promise<void> {
    this.#abort.abort();
    await this.#reader?.cancel().catch(() => {});
    await this.done;
  }
}

/** Everything one bench run shares. */
interface Run {
  work: string;
  dataPath: string;
  specPath: string;
  logPath: string;
  admin: { username: string; password: string };
  cookie: string | null;
  child: ScaleChild | null;
  farm: Farm | null;
  idleRss: number | null;
}

const instanceName = (i: number) => `scale-${String(i + 1).padStart(4, "0")}`;

function spec(run: Run, port: number, instances: number): ScaleSpec {
  return {
    dataPath: run.dataPath,
    port,
    logLevel: "warn",
    ssh: { probeIntervalMs: PROBE_MS, tunnelProbeIntervalMs: TUNNEL_PROBE_MS },
    admin: run.admin,
    instances: Array.from(
      { length: instances },
      (_, i) => ({ name: instanceName(i), endpoint: run.farm!.endpoint(i) }),
    ),
  };
}

/** Starts the control plane on `instances` rows; resolves once /health answers 200 (cold start measured). */
async function startChild(
  run: Run,
  instances: number,
): Promise<{ child: ScaleChild; browser: Browser; healthMs: number }> {
  const port = freePort();
  await writeSpec(run.specPath, spec(run, port, instances));
  const child = run.child = ScaleChild.spawn(run.specPath, run.logPath);
  const base = `http://127.0.0.1:${port}`;
  const healthMs = await Promise.race([
    waitFor200(`${base}/health`, child.spawnedAt, 60_000),
    child.status.then(() => Promise.reject(new Error(`the control plane exited during start; log: ${run.logPath}`))),
  ]);
  const ready = await child.ready;
  if (!ready.sshOptionsApplied) {
    progress("WARNING: the SSH probe periods did not reach the pool (startServer no longer forwards `ssh`?)");
  }
  run.cookie ??= await login(base, run.admin.username, run.admin.password);
  return { child, browser: new Browser(base, run.cookie), healthMs };
}

async function stopChild(run: Run): Promise<{ ms: number; code: number; killed: boolean } | null> {
  const child = run.child;
  if (!child) return null;
  run.child = null;
  return await child.stop("SIGTERM");
}

/** Polls the child until `want` instances are connected; the time it happened, or how many made it. */
async function waitConnected(
  child: ScaleChild,
  want: number,
  timeoutMs = CONNECT_TIMEOUT_MS,
): Promise<{ ok: boolean; at: number; connected: number }> {
  await child.ready;
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const { connected } = await child.command<{ connected: number }>({ op: "connected" });
    if (connected >= want) return { ok: true, at: performance.now(), connected };
    if (performance.now() > deadline) return { ok: false, at: performance.now(), connected };
    await sleep(100);
  }
}

type Lag = { p50_ms: number | null; p99_ms: number | null; max_ms: number | null; samples: number };
type Probes = {
  probes: number;
  failures: number;
  p50_ms: number | null;
  p99_ms: number | null;
  max_ms: number | null;
  overdue_max: number;
  missed_periods: number;
  expected_periods: number;
};

async function idleRows(run: Run): Promise<BenchRow[]> {
  progress("idle: control plane with no instances");
  const { child, browser, healthMs } = await startChild(run, 0);
  await sleep(5_000);
  const rss = await child.rss();
  run.idleRss = rss;
  const heap = await child.command<Deno.MemoryUsage>({ op: "memory" });
  const text = (await browser.timedGet("/metrics")).text;
  const reported = metric(text, "process_resident_memory_bytes");
  // A dashboard left open: its /api/v1/events stream is live while the operator stops the control plane.
  const tab = new SseClient(browser);
  await tab.ready;
  const stopped = await child.stop("SIGTERM", SSE_STOP_GRACE_MS);
  run.child = null;
  await tab.close();
  progress(
    `idle: RSS ${mb(rss)}, cold start ${ms(healthMs)}; SIGTERM with a dashboard open: ${
      stopped.killed ? "no exit, SIGKILLed" : ms(stopped.ms)
    }`,
  );
  const shutdownRow: BenchRow = {
    metric: `SIGTERM → exit with one dashboard open (a live /api/v1/events stream; SIGKILL after ${
      secs(SSE_STOP_GRACE_MS)
    })`,
    value: stopped.killed ? `no exit in ${secs(SSE_STOP_GRACE_MS)}` : ms(stopped.ms),
    goal: "≤ 5 s",
  };
  return [{
    metric: `Control-plane RSS idle, no instances (VmRSS 5 s after start; JS heap ${mb(heap.heapUsed)} of ${
      mb(heap.heapTotal)
    }, external ${mb(heap.external)}; /metrics: ${reported === null ? MISSING : mb(reported)})`,
    value: mb(rss),
    goal: "≤ 64 MB",
  }, shutdownRow];
}

/** All the rows for N instances. */
async function sizeRows(run: Run, n: number): Promise<BenchRow[]> {
  const farm = run.farm!;
  const rows: BenchRow[] = [];
  const N = count(n);
  const names = Array.from({ length: n }, (_, i) => instanceName(i));
  await writeSpec(run.specPath, spec(run, 0, n));
  await seedData(run.specPath);

  // 1. Start with N running rows: cold start, connect all.
  progress(`${N}: starting the control plane with ${N} running instances`);
  let { child, browser, healthMs } = await startChild(run, n);
  const coldStarts = [healthMs];
  const first = await waitConnected(child, n);
  const connectLag = await child.command<Lag>({ op: "lag", reset: true });
  progress(
    `${N}: ${first.connected}/${n} connected after ${secs(first.at - child.spawnedAt)} (cold start ${ms(healthMs)})`,
  );
  rows.push({
    metric: `Connect all ${N} from a control-plane start (spawn → all connected; loop lag max ${
      ms(connectLag.max_ms)
    })`,
    value: first.ok ? secs(first.at - child.spawnedAt) : `> ${secs(CONNECT_TIMEOUT_MS)} (${first.connected}/${n})`,
    goal: "≤ 60 s at 1,000",
  });

  // 2. Health sweep: probes every PROBE_MS over SWEEP_MS with no HTTP traffic (a /metrics scrape at 1,000 blocks
  // the loop for a while itself, measured separately below); /metrics is read once at the end (its lag and
  // probe quantiles cover the last minute / last 4,096 probes), the harness watches throughout.
  await sleep(PROBE_MS);
  await child.command({ op: "probes", reset: true });
  await child.command({ op: "lag", reset: true });
  progress(`${N}: health sweep for ${secs(SWEEP_MS)} (probe every ${secs(PROBE_MS)})`);
  const cpu0 = await cpuTimes(child.pid);
  await sleep(SWEEP_MS);
  const cpu1 = await cpuTimes(child.pid);
  const cores = navigator.hardwareConcurrency;
  const cpuText = `control plane ${Math.round((cpu1.proc - cpu0.proc) / (SWEEP_MS / 1000) * 100)}% of a core, ` +
    `machine ${Math.round((cpu1.busy - cpu0.busy) / (cpu1.total - cpu0.total) * 100)}% busy of ${cores} cores`;
  const lastMetrics = (await browser.timedGet("/metrics")).text;
  const overdueNow = metric(lastMetrics, "claworc_ssh_probe_overdue");
  const probes = await child.command<Probes>({ op: "probes" });
  const lag = await child.command<Lag>({ op: "lag", reset: true });
  const rss = await child.rss();
  const reportedRss = metric(lastMetrics, "process_resident_memory_bytes");
  const pP50 = metric(lastMetrics, "claworc_ssh_probe_latency_ms", { quantile: "0.5" });
  const pP99 = metric(lastMetrics, "claworc_ssh_probe_latency_ms", { quantile: "0.99" });
  const lP99 = metric(lastMetrics, "claworc_event_loop_lag_ms", { quantile: "0.99" });
  const lMax = metric(lastMetrics, "claworc_event_loop_lag_ms", { quantile: "max" });
  const connectedNow = metric(lastMetrics, "claworc_ssh_connections", { state: "connected" });
  const tunnels = parseMetrics(lastMetrics).filter((m) => m.name === "claworc_ssh_tunnel_latency_ms");
  const tunnelsHealthy = tunnels.filter((m) => m.labels.status === "healthy").length;
  const heap = await child.command<Deno.MemoryUsage>({ op: "memory" });
  progress(
    `${N}: RSS ${mb(rss)} (JS heap ${mb(heap.heapUsed)}, external ${mb(heap.external)}); probes ${probes.probes} ` +
      `(p99 ${ms(probes.p99_ms)}, ${probes.failures} failed, ${probes.missed_periods} missed); loop lag p99 ` +
      `${ms(lag.p99_ms)} max ${ms(lag.max_ms)}; ${cpuText}`,
  );
  const idle = run.idleRss ?? 0;
  rows.push({
    metric: `RSS with ${N} connected instances (VmRSS after the sweep; JS heap ${mb(heap.heapUsed)} of ${
      mb(heap.heapTotal)
    }, external ${mb(heap.external)}; /metrics: ${reportedRss === null ? MISSING : mb(reportedRss)})`,
    value: mb(rss),
    goal: "≤ 300 MB at 1,000",
  });
  rows.push({
    metric: `RSS per instance connection at ${N} ((RSS − idle ${mb(idle)}) / ${N})`,
    value: `${((rss - idle) / n / 1024).toFixed(0)} KiB`,
    goal: "≤ 240 KiB (300 MB at 1,000)",
  });
  const overdueText = overdueNow === null ? MISSING : `${overdueNow} of ${N} overdue at the end`;
  rows.push({
    metric: `Health sweep at ${N}: probe every ${secs(PROBE_MS)} for ${secs(SWEEP_MS)} ` +
      `(harness: ${probes.missed_periods} of ${count(probes.expected_periods)} periods missed, ` +
      `max ${probes.overdue_max} overdue, ${probes.failures} probes failed; tunnels healthy ${tunnelsHealthy}/${
        2 * n
      })`,
    value: overdueText,
    goal: "0 missed",
  });
  rows.push({
    metric: `Command probe latency p50 / p99 at ${N} (harness: ${ms(probes.p50_ms)} / ${ms(probes.p99_ms)}, ` +
      `max ${ms(probes.max_ms)}, ${count(probes.probes)} probes)`,
    value: pP99 === null ? MISSING : `${ms(pP50)} / ${ms(pP99)}`,
    goal: "reported (a probe fails at 5 s)",
  });
  rows.push({
    metric: `Event-loop lag p99 / max at ${N} during the sweep (harness 50 ms timer: ${ms(lag.p99_ms)} / ${
      ms(lag.max_ms)
    }; ${cpuText})`,
    value: lP99 === null ? MISSING : `${ms(lP99)} / ${ms(lMax)}`,
    goal: "≤ 20 ms p99",
  });
  // 3. The instance list, as the dashboard loads it.
  progress(`${N}: GET /api/v1/instances × ${LIST_CALLS}`);
  const listTimes: number[] = [];
  let ids = new Map<string, number>();
  for (let i = 0; i < LIST_CALLS; i++) {
    const got = await browser.timedGet("/api/v1/instances");
    listTimes.push(got.ms);
    if (i === 0) ids = new Map((JSON.parse(got.text) as { id: number; name: string }[]).map((r) => [r.name, r.id]));
  }
  rows.push({
    metric: `GET /api/v1/instances at ${N} as an admin, p95 of ${LIST_CALLS} (p50 ${ms(median(listTimes))})`,
    value: ms(percentile(listTimes, 0.95)),
    goal: "≤ 20 ms",
  });

  // /metrics as a scraper reads it (every status of every instance).
  const scrapes: number[] = [];
  for (let i = 0; i < 5; i++) {
    scrapes.push((await browser.timedGet("/metrics")).ms);
    await sleep(1_000);
  }
  rows.push({
    metric: `GET /metrics at ${N}, p50 / max of ${scrapes.length} scrapes (connected: ${connectedNow ?? "?"})`,
    value: `${ms(median(scrapes))} / ${ms(Math.max(...scrapes))}`,
    goal: "reported",
  });

  // 4. Status push: SSE_CLIENTS dashboards; the engine reports a status change; time until all have it.
  progress(`${N}: status push to ${SSE_CLIENTS} SSE clients, ${PUSH_TRIALS * 2} changes`);
  const clients = Array.from({ length: SSE_CLIENTS }, () => new SseClient(browser));
  const pushTimes: number[] = [];
  try {
    await Promise.race([
      Promise.all(clients.map((c) => c.ready)),
      sleep(30_000).then(() => Promise.reject(new Error("SSE clients did not get their ready event in 30 s"))),
    ]);
    for (let t = 0; t < PUSH_TRIALS; t++) {
      const name = names[n - 1 - (t % n)];
      const id = ids.get(name)!;
      for (const status of ["stopped", "running"] as const) {
        const got = clients.map((c) =>
          c.waitFor((type, d) => type === "instance" && d.id === id && d.status === status)
        );
        const sent = performance.now();
        await child.command({ op: "emit", name, status });
        const all = await Promise.race([
          Promise.all(got),
          sleep(10_000).then(() => null),
        ]);
        pushTimes.push(all ? Math.max(...all) - sent : 10_000);
      }
    }
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
  await waitConnected(child, n, 30_000);
  rows.push({
    metric: `Status push at ${N}: engine event → all ${SSE_CLIENTS} SSE clients, p95 of ${pushTimes.length} (p50 ${
      ms(median(pushTimes))
    })`,
    value: ms(percentile(pushTimes, 0.95)),
    goal: "≤ 250 ms",
  });

  // 5. Connection storm: the sshds of STORM_SIZE instances stop at once for STORM_MS.
  const stormSshds = [...new Set(Array.from({ length: Math.min(STORM_SIZE, n) }, (_, i) => farm.sshdOf(i)))];
  const stormNames = names.filter((_, i) => stormSshds.includes(farm.sshdOf(i)));
  const S = count(stormNames.length);
  progress(`${N}: storm: stopping ${stormSshds.length} sshd(s) serving ${S} instances for ${secs(STORM_MS)}`);
  const before = (await browser.timedGet("/metrics")).text;
  await child.command({ op: "endpoint_calls", names: stormNames, reset: true });
  await child.command({ op: "lag", reset: true });
  const stormStart = performance.now();
  await Promise.all(stormSshds.map((k) => farm.stopSshd(k)));
  const stormApi: number[] = [];
  while (performance.now() - stormStart < STORM_MS) {
    const round = performance.now();
    stormApi.push((await browser.timedGet("/api/v1/instances")).ms);
    await sleep(Math.max(0, 100 - (performance.now() - round)));
  }
  const { calls } = await child.command<{ calls: number[] }>({ op: "endpoint_calls", names: stormNames });
  const stormLag = await child.command<Lag>({ op: "lag", reset: true });
  const after = (await browser.timedGet("/metrics")).text;
  const delta = (type: string) =>
    (metric(after, "claworc_ssh_events_total", { type }) ?? 0) -
    (metric(before, "claworc_ssh_events_total", { type }) ?? 0);
  const limited = delta("rate_limited");
  const maxCalls = Math.max(...calls);
  const meanCalls = calls.reduce((a, b) => a + b, 0) / calls.length;
  progress(
    `${N}: storm: API p95 ${ms(percentile(stormApi, 0.95))}; attempts/instance max ${maxCalls} mean ${
      meanCalls.toFixed(1)
    }; rate_limited ${limited}; loop lag p99 ${ms(stormLag.p99_ms)}`,
  );
  rows.push({
    metric: `API p95 during a connection storm at ${N} (${S} instances' sshds stopped, ${stormApi.length} calls; ` +
      `loop lag p99 ${ms(stormLag.p99_ms)})`,
    value: ms(percentile(stormApi, 0.95)),
    goal: "≤ 50 ms",
  });
  rows.push({
    metric: `Connection attempts per failing instance in ${secs(STORM_MS)} at ${N}, max / mean ` +
      `(endpoint look-ups past the limiter; ${count(limited)} rate_limited events, ` +
      `${count(delta("reconnecting"))} reconnecting)`,
    value: `${maxCalls} / ${meanCalls.toFixed(1)}`,
    goal: `≤ 10 per ${secs(60_000)} (rate limiter)`,
  });
  const back = performance.now();
  await Promise.all(stormSshds.map((k) => farm.startSshd(k)));
  const recovered = await waitConnected(child, n);
  progress(
    `${N}: storm over: ${recovered.connected}/${n} connected ${secs(recovered.at - back)} after the sshds came back`,
  );
  rows.push({
    metric: `Storm recovery at ${N}: sshds back → all ${N} connected (backoff + limiter decide)`,
    value: recovered.ok ? secs(recovered.at - back) : `> ${secs(CONNECT_TIMEOUT_MS)} (${recovered.connected}/${n})`,
    goal: "reported",
  });

  // 6. Restart: SIGTERM, start again on the same data folder.
  progress(`${N}: restart (SIGTERM, start again)`);
  const openAtTerm = await httpConnections(browser);
  const termAt = performance.now();
  const stopped = await stopChild(run);
  ({ child, browser, healthMs } = await startChild(run, n));
  coldStarts.push(healthMs);
  const again = await waitConnected(child, n);
  progress(
    `${N}: shutdown ${ms(stopped?.ms)}${stopped?.killed ? " (SIGKILLed)" : ""} with ${openAtTerm} HTTP ` +
      `connection(s) open, cold start ${ms(healthMs)}, ` +
      `${again.connected}/${n} reconnected ${secs(again.at - termAt)} after SIGTERM`,
  );
  rows.push({
    metric: `Reconnect all ${N} after a restart (SIGTERM → all connected; shutdown took ${ms(stopped?.ms)}${
      stopped?.killed ? ", SIGKILLed" : ""
    }; from the new start ${secs(again.at - child.spawnedAt)})`,
    value: again.ok ? secs(again.at - termAt) : `> ${secs(CONNECT_TIMEOUT_MS)} (${again.connected}/${n})`,
    goal: "≤ 60 s at 1,000",
  });
  rows.push({
    metric: `Cold start to first 200 on /health with ${N} instances in the DB (median of ${coldStarts.length}: ${
      coldStarts.map((x) => ms(x)).join(", ")
    })`,
    value: ms(median(coldStarts)),
    goal: "≤ 500 ms",
  });
  await stopChild(run);
  return rows;
}

/** Runs the scale scenarios; returns table rows. Cleans up every process, the namespace and the temp folder. */
export async function scaleBench(): Promise<BenchRow[]> {
  if (!SIZES.length) throw new Error("BENCH_SCALE_SIZES names no size (e.g. 100,500,1000)");
  const work = await Deno.makeTempDir({ prefix: "claworc-scale-" });
  const run: Run = {
    work,
    dataPath: `${work}/data`,
    specPath: `${work}/spec.json`,
    logPath: `${work}/control-plane.log`,
    admin: { username: "admin", password: `scale-${crypto.randomUUID()}` },
    cookie: null,
    child: null,
    farm: null,
    idleRss: null,
  };
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    await stopChild(run).catch(() => {});
    await run.farm?.close();
    if (KEEP) progress(`kept ${work} (control-plane.log)`);
    else await Deno.remove(work, { recursive: true }).catch(() => {});
  };
  const interrupted = () => void cleanup().finally(() => Deno.exit(130));
  Deno.addSignalListener("SIGINT", interrupted);
  Deno.addSignalListener("SIGTERM", interrupted);
  const rows: BenchRow[] = [];
  try {
    const max = Math.max(...SIZES);
    progress(`sizes ${SIZES.join(", ")}; work folder ${work}`);
    await writeSpec(run.specPath, {
      dataPath: run.dataPath,
      port: 0,
      admin: run.admin,
      instances: [],
    });
    const { publicKey } = await seedData(run.specPath);
    rows.push(...await idleRows(run));
    run.farm = await startFarm({
      instances: max,
      perSshd: PER_SSHD,
      authorizedLine: authorizedLine(publicKey, TUNNEL_TARGETS),
      progress,
    });
    for (const n of [...SIZES].sort((a, b) => a - b)) {
      const started = performance.now();
      try {
        rows.push(...await sizeRows(run, n));
      } catch (e) {
        progress(`${count(n)}: FAILED: ${(e as Error).stack ?? e}`);
        rows.push({
          metric: `Scale scenario at ${count(n)} instances`,
          value: `failed: ${(e as Error).message}`,
          goal: "—",
        });
        await stopChild(run).catch(() => {});
      }
      progress(`${count(n)}: done in ${secs(performance.now() - started)}`);
    }
    const log = await Deno.readTextFile(run.logPath).catch(() => "");
    const problems = log.split("\n").filter((l) => /"level":"(warn|error)"/.test(l));
    if (problems.length) {
      progress(`control-plane log: ${problems.length} warn/error line(s); first: ${problems.slice(0, 5).join("\n  ")}`);
    }
  } finally {
    Deno.removeSignalListener("SIGINT", interrupted);
    Deno.removeSignalListener("SIGTERM", interrupted);
    await cleanup();
  }
  progress(`total ${secs(performance.now() - t0)}`);
  return rows;
}
