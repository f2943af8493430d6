/**
 * Instance rows of `deno task bench`: create to SSH connected and to chat-ready through the API, each
 * against a floor measured in the same run (the same image started straight through the backend, timed
 * to sshd's banner and to the gateway's listening socket), and the instance list with 1,000 rows.
 * Podman's Docker API stands in for the engine (no Docker daemon on these machines).
 */
import {
  agentFiles,
  authorizedKeysFile,
  GATEWAY_PORT,
  newGatewayToken,
  openclawConfig,
} from "../core/instances/agent_files.ts";
import type { LiveEvent } from "../core/instances/live_events.ts";
import { generateKeyPair } from "../core/ssh/key_store.ts";
import { sshDefaults } from "../core/ssh/options.ts";
import { TUNNEL_TARGETS } from "../core/ssh/tunnel_targets.ts";
import type { DockerBackend } from "../plugins/docker/backend.ts";
import { dockerPlugin } from "../plugins/docker/mod.ts";
import { builtinPlugins } from "../plugins/mod.ts";
import { type TestApp, testApp } from "../tests/_helpers/harness.ts";
import { startPodman } from "../tests/harness/podman.ts";
import { AGENT_IMAGE, buildAgentImage } from "./build_agent_image.ts";
import type { BenchRow } from "./bench_ssh.ts";

const RUNS = Number(Deno.env.get("BENCH_RUNS") ?? 5);
/** Longest any single wait may take before the bench gives up. */
const TIMEOUT_MS = 240_000;
/** The gateway's LISTEN line in /proc/net/tcp: 127.0.0.1:18789, state 0A. */
const GATEWAY_LISTEN = `0100007F:${GATEWAY_PORT.toString(16).toUpperCase()} 00000000:0000 0A`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const percentile = (xs: number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
};
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const plus = (ms: number) => `${ms < 0 ? "−" : "+"}${(Math.abs(ms) / 1000).toFixed(1)} s`;

/** Calls `check` until it is true (at most every `everyMs`); resolves with the ms since `since`. */
async function pollUntil(check: () => Promise<boolean>, everyMs: number, since: number, what: string): Promise<number> {
  while (performance.now() - since < TIMEOUT_MS) {
    const round = performance.now();
    if (await check().catch(() => false)) return performance.now() - since;
    await sleep(Math.max(0, everyMs - (performance.now() - round)));
  }
  throw new Error(`${what}: not within ${TIMEOUT_MS / 1000} s`);
}

/** Whether host:port answers with an SSH banner right now. */
async function sshBanner(host: string, port: number): Promise<boolean> {
  const conn = await Deno.connect({ hostname: host, port });
  const timer = setTimeout(() => conn.close(), 2_000);
  try {
    const buf = new Uint8Array(64);
    const n = await conn.read(buf);
    return n !== null && new TextDecoder().decode(buf.subarray(0, n)).startsWith("SSH-");
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed by the timer */ }
  }
}

/**
 * Resolves once the gateway listens inside the container: one engine exec that reads /proc/net/tcp
 * every 100 ms. One exec, not one per check: on a 2-CPU machine each Podman exec (conmon + runc) costs
 * ~150-200 ms of CPU, which slowed the very start being measured by a few seconds.
 */
async function gatewayListening(backend: DockerBackend, name: string): Promise<void> {
  const loop = `until grep -q '${GATEWAY_LISTEN}' /proc/net/tcp; do sleep 0.1; done; echo listening`;
  const exec = await backend.docker.getContainer(name).exec({
    Cmd: ["timeout", String(TIMEOUT_MS / 1000), "sh", "-c", loop],
    AttachStdout: true,
  });
  const stream = await exec.start({ hijack: true, stdin: false });
  let out = "";
  for await (const chunk of stream) out += new TextDecoder().decode(chunk);
  if (!out.includes("listening")) throw new Error(`floor ${name}: the gateway check ended without the gateway`);
}

/** The floor: the agent image started straight through the backend; ms from start to sshd and to gateway. */
async function floorRun(backend: DockerBackend, name: string): Promise<{ sshd: number; gateway: number }> {
  const key = generateKeyPair("bench");
  const { files } = agentFiles({
    name,
    gatewayToken: newGatewayToken(),
    authorizedKeys: authorizedKeysFile(key.publicKey, TUNNEL_TARGETS, []),
    vncResolution: "1280x800",
    openclaw: { "openclaw.json": openclawConfig() },
  });
  // The limits an instance gets by default (core/services.ts).
  const spec = {
    id: 0,
    name,
    image: AGENT_IMAGE,
    cpuRequest: "2",
    cpuLimit: "2",
    memoryRequest: "4Gi",
    memoryLimit: "4Gi",
    files,
    volumes: { home: "10Gi" },
  };
  try {
    await backend.createVolumes(spec);
    await backend.createWorkload(spec);
    const started = performance.now();
    await backend.start(name);
    const { host } = await backend.sshEndpoint(name);
    const [sshd, gateway] = await Promise.all([
      pollUntil(() => sshBanner(host, 22), 50, started, `floor ${name} sshd`),
      gatewayListening(backend, name).then(() => performance.now() - started),
    ]);
    return { sshd, gateway };
  } finally {
    await backend.remove(name).catch(() => {});
  }
}

/** Creates one instance through the API; ms from the POST to its `ssh` step done and to the operation's success. */
async function apiRun(t: TestApp, cookie: string, displayName: string): Promise<{ ssh: number; ready: number }> {
  // Timestamps straight from the live bus (the same events the dashboard is pushed), keyed by instance id
  // because the first ones arrive before the POST answers.
  const sshAt = new Map<number, number>();
  const endAt = new Map<number, { at: number; ok: boolean; error: string | null }>();
  const unsubscribe = t.services.live.subscribe((e: LiveEvent) => {
    if (e.type !== "operation") return;
    const op = e.operation;
    if (!sshAt.has(op.instance_id) && op.steps.some((s) => s.name === "ssh" && s.state === "done")) {
      sshAt.set(op.instance_id, performance.now());
    }
    if (op.state !== "running" && !endAt.has(op.instance_id)) {
      endAt.set(op.instance_id, { at: performance.now(), ok: op.state === "succeeded", error: op.error });
    }
  });
  let id: number | null = null;
  let name = "";
  try {
    const started = performance.now();
    const res = await t.request("POST", "/api/v1/instances", { cookie, body: { display_name: displayName } });
    if (res.status !== 201) throw new Error(`create failed: ${res.status} ${await res.text()}`);
    ({ id, name } = await res.json());
    await pollUntil(() => Promise.resolve(endAt.has(id!)), 50, started, `operation of ${name}`);
    const end = endAt.get(id!)!;
    if (!end.ok || !sshAt.has(id!)) throw new Error(`creating ${name} failed: ${end.error}`);
    return { ssh: sshAt.get(id!)! - started, ready: end.at - started };
  } finally {
    unsubscribe();
    if (id !== null) {
      const del = await t.request("DELETE", `/api/v1/instances/${id}`, { cookie });
      await del.body?.cancel();
      await (t.services.runtime.backend as DockerBackend).remove(name).catch(() => {});
    }
  }
}

/** Rows (a) and (b): create → SSH connected and → chat-ready, each against its floor from the same run. */
async function createBench(): Promise<BenchRow[]> {
  const service = await startPodman();
  let t: TestApp | null = null;
  try {
    await buildAgentImage(undefined, service.env);
    const tag = crypto.randomUUID().slice(0, 6);
    // Production SSH timings (the test harness shrinks them), so the numbers are what users get.
    t = await testApp(
      { CLAWORC_AGENT_IMAGE: AGENT_IMAGE },
      [
        ...builtinPlugins().filter((p) => p.name !== "docker"),
        dockerPlugin({ socketPath: service.socketPath, network: `claworc-bench-${tag}` }),
      ],
      { ssh: sshDefaults },
    );
    const backend = t.services.runtime.backend as DockerBackend;
    const admin = await t.setupAdmin();
    await t.services.lifecycle.attach();
    const floors: { sshd: number; gateway: number }[] = [];
    const apis: { ssh: number; ready: number }[] = [];
    // Untimed: the first agent start after the engine starts is several seconds slower (cold caches).
    await floorRun(backend, `bench-warm-${tag}`);
    for (let i = 0; i < RUNS; i++) {
      // Alternating which goes first, so neither side always starts right after the other's removal.
      const floor = () => floorRun(backend, `bench-floor-${tag}-${i}`);
      const api = () => apiRun(t!, admin, `Bench ${tag} ${i}`);
      if (i % 2 === 0) {
        floors.push(await floor());
        apis.push(await api());
      } else {
        apis.push(await api());
        floors.push(await floor());
      }
      console.error(
        `instances run ${i + 1}/${RUNS}: floor sshd ${Math.round(floors[i].sshd)} ms, gateway ${
          Math.round(floors[i].gateway)
        } ms; API ssh ${Math.round(apis[i].ssh)} ms, ready ${Math.round(apis[i].ready)} ms; load ${
          Deno.loadavg()[0].toFixed(1)
        }`,
      );
    }
    const row = (metric: string, ours: number, floorName: string, floor: number): BenchRow => ({
      metric: `${metric} (median of ${RUNS})`,
      value: seconds(ours),
      peer: `${floorName} ${seconds(floor)}`,
      ratio: plus(ours - floor),
      goal: "≤ floor + 1 s",
    });
    return [
      row(
        "POST /instances → SSH connected",
        median(apis.map((a) => a.ssh)),
        "container start → sshd answering",
        median(floors.map((f) => f.sshd)),
      ),
      row(
        "POST /instances → chat-ready (gateway tunnel healthy)",
        median(apis.map((a) => a.ready)),
        "container start → gateway listening inside",
        median(floors.map((f) => f.gateway)),
      ),
    ];
  } finally {
    await t?.close();
    await service.stop();
  }
}

/** Row (c): the instance list with 1,000 rows, as the admin and as a user assigned 100 of them. */
async function listBench(): Promise<BenchRow[]> {
  const t = await testApp();
  try {
    const admin = await t.setupAdmin();
    const ids: number[] = [];
    for (let i = 0; i < 1_000; i++) ids.push(t.services.instances.insert(`bot-b${i}`, `B ${i}`).id);
    const userId = await t.createUser(admin, "benchuser");
    const assign = await t.request("PUT", `/api/v1/users/${userId}/instances`, {
      cookie: admin,
      body: { instance_ids: ids.filter((_, i) => i % 10 === 0) },
    });
    if (assign.status !== 200) throw new Error(`assigning failed: ${assign.status} ${await assign.text()}`);
    await assign.body?.cancel();
    const user = await t.login("benchuser", "benchuser-password-1");
    const timeList = async (cookie: string, expected: number) => {
      const times: number[] = [];
      for (let i = 0; i < 220; i++) {
        const started = performance.now();
        const body = await (await t.request("GET", "/api/v1/instances", { cookie })).text();
        if (i >= 20) times.push(performance.now() - started); // the first 20 warm up
        const n = JSON.parse(body).length;
        if (n !== expected) throw new Error(`listed ${n} instances, expected ${expected}`);
      }
      return `p50 ${percentile(times, 0.5).toFixed(1)} ms / p95 ${percentile(times, 0.95).toFixed(1)} ms`;
    };
    return [
      { metric: "GET /api/v1/instances p50/p95 with 1,000 instances (admin)", value: await timeList(admin, 1_000) },
      {
        metric: "GET /api/v1/instances p50/p95 with 1,000 instances (user with 100)",
        value: await timeList(user, 100),
      },
    ].map((r) => ({ ...r, goal: "p95 ≤ 20 ms" }));
  } finally {
    await t.close();
  }
}

/** Runs the instance benchmarks; returns table rows. */
export async function instanceBench(): Promise<BenchRow[]> {
  return [...await createBench(), ...await listBench()];
}
