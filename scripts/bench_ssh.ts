/**
 * SSH rows of `deno task bench`: tunnel throughput (ours vs OpenSSH `ssh -L` vs raw loopback), exec
 * round trip (ours vs OpenSSH ControlMaster reuse), connect time and memory per idle connection.
 * Everything runs against a real sshd from the test harness on loopback.
 */
import process from "node:process";
import { CIPHERS } from "../core/ssh/connection.ts";
import { poolFixture } from "../tests/harness/pool.ts";
import { type Sshd, startSshd } from "../tests/harness/sshd.ts";
import { freePort } from "./_server_probe.ts";
import { cryptoCeilingRows } from "./bench_ssh_crypto.ts";

export interface BenchRow {
  metric: string;
  value: string;
  peer?: string;
  ratio?: string;
  goal: string;
}

const MB = 1 << 20;

/** OpenSSH client options for talking to a throwaway test sshd. */
const SSH_OPTS = ["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"];

/** A TCP server that discards input and resolves `done` once `total` bytes arrived. */
function sink(total: number) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => resolveDone = r);
  (async () => {
    for await (const conn of listener) {
      (async () => {
        let got = 0;
        const buf = new Uint8Array(256 * 1024);
        while (true) {
          const n = await conn.read(buf).catch(() => null);
          if (n === null) break;
          got += n;
          if (got >= total) {
            resolveDone();
            break;
          }
        }
        conn.close();
      })();
    }
  })().catch(() => {});
  return { port: (listener.addr as Deno.NetAddr).port, done, close: () => listener.close() };
}

/** Pushes `totalMb` MiB through `write` (with backpressure) and returns MB/s once the sink has it all. */
async function throughput(
  totalMb: number,
  open: (port: number) => Promise<(chunk: Uint8Array) => Promise<void>>,
): Promise<number> {
  const s = sink(totalMb * MB);
  try {
    const write = await open(s.port);
    const chunk = new Uint8Array(MB).fill(97);
    const started = performance.now();
    for (let i = 0; i < totalMb; i++) await write(chunk);
    await s.done;
    return totalMb / ((performance.now() - started) / 1000);
  } finally {
    s.close();
  }
}

function percentile(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

async function sshCommand(args: string[]): Promise<Deno.CommandOutput> {
  return await new Deno.Command("ssh", { args, stdout: "piped", stderr: "piped", stdin: "null" }).output();
}

/** Rounds of the tunnel measurement (each moves `BENCH_MB` through ours and through `ssh -L`). */
const TUNNEL_ROUNDS = Number(Deno.env.get("BENCH_TUNNEL_ROUNDS") ?? 3);

const median = (xs: number[]) => percentile(xs, 0.5);

/** MB/s of `totalMb` MiB written into OpenSSH's `ssh -L` (its fastest cipher here) to a sink behind `sshd`. */
async function opensshTunnel(sshd: Sshd, keyFile: string, totalMb: number): Promise<number> {
  const s = sink(totalMb * MB);
  const lport = freePort();
  const args = [
    "-N",
    ...SSH_OPTS,
    "-o",
    "Ciphers=aes128-gcm@openssh.com",
    "-o",
    "ExitOnForwardFailure=yes",
    "-i",
    keyFile,
    "-p",
    String(sshd.port),
    "-L",
    `127.0.0.1:${lport}:127.0.0.1:${s.port}`,
    `${sshd.user}@${sshd.host}`,
  ];
  const child = new Deno.Command("ssh", { args, stdout: "null", stderr: "null", stdin: "null" }).spawn();
  try {
    let c: Deno.Conn | null = null;
    for (let i = 0; i < 200 && !c; i++) {
      c = await Deno.connect({ hostname: "127.0.0.1", port: lport }).catch(() => null);
      if (!c) await new Promise((r) => setTimeout(r, 25));
    }
    if (!c) throw new Error("ssh -L did not come up");
    const chunk = new Uint8Array(MB).fill(97);
    const started = performance.now();
    for (let i = 0; i < totalMb; i++) {
      let off = 0;
      while (off < chunk.length) off += await c.write(chunk.subarray(off));
    }
    await s.done;
    c.close();
    return totalMb / ((performance.now() - started) / 1000);
  } finally {
    child.kill("SIGTERM");
    await child.status;
    s.close();
  }
}

/** Runs the SSH benchmarks; returns table rows. */
export async function sshBench(totalMb = Number(Deno.env.get("BENCH_MB") ?? 500)): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const f = await poolFixture({ count: 201, limits: { maxAttempts: 100_000, failuresToBlock: 100_000 } });
  const keyFile = `${f.dir}/ssh_key`;
  // The sink port changes per run, so allow any local forward for the bench key (the product key is restricted).
  const sshd = await startSshd({ authorizedKeys: [f.keys.publicKey], extraConfig: "MaxStartups 400:30:600" });
  try {
    for (let id = 1; id <= 201; id++) f.endpoints.set(id, { host: sshd.host, port: sshd.port, username: sshd.user });
    const conn = await f.pool.connect(1);

    // Tunnel throughput.
    const raw = await throughput(totalMb, async (port) => {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      return async (chunk) =>
        void await c.write(chunk).then(async (n) => n < chunk.length && await c.write(chunk.subarray(n)));
    });
    // Ours and `ssh -L` take turns, so a slow spell of the host weighs on both; medians of the rounds.
    const ours: number[] = [], openssh: number[] = [];
    let cpuMs = 0;
    for (let round = 0; round < TUNNEL_ROUNDS; round++) {
      const cpu0 = process.cpuUsage();
      ours.push(
        await throughput(totalMb, async (port) => {
          const ch = await conn.forward("127.0.0.1", port);
          return (chunk) =>
            new Promise<void>((resolve) => ch.write(chunk) ? resolve() : ch.once("drain", () => resolve()));
        }),
      );
      const cpu = process.cpuUsage(cpu0);
      cpuMs += (cpu.user + cpu.system) / 1000;
      openssh.push(await opensshTunnel(sshd, keyFile, totalMb));
    }
    const ratios = ours.map((x, i) => x / openssh[i]);
    rows.push({
      metric: `Tunnel throughput, ${totalMb} MB (median of ${TUNNEL_ROUNDS} alternating rounds, ratios ` +
        `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}; raw loopback: ${raw.toFixed(0)} MB/s; ` +
        `this process's CPU ${(cpuMs / (totalMb * TUNNEL_ROUNDS)).toFixed(1)} ms per MB, sink included)`,
      value: `${median(ours).toFixed(0)} MB/s`,
      peer: `${median(openssh).toFixed(0)} MB/s ssh -L aes128-gcm`,
      ratio: `${(median(ours) / median(openssh)).toFixed(2)}×`,
      goal: "≥ 0.5× OpenSSH",
    });
    rows.push(...await cryptoCeilingRows(CIPHERS as string[]));

    // Exec round trip.
    const ourTimes: number[] = [];
    for (let i = 0; i < 100; i++) {
      const t0 = performance.now();
      await conn.exec("true");
      ourTimes.push(performance.now() - t0);
    }
    const ctl = `${f.dir}/ctl`;
    const base = [
      ...SSH_OPTS,
      "-i",
      keyFile,
      "-p",
      String(sshd.port),
      "-S",
      ctl,
    ];
    const master = new Deno.Command("ssh", {
      args: [...base, "-M", "-N", `${sshd.user}@${sshd.host}`],
      stdout: "null",
      stderr: "null",
      stdin: "null",
    }).spawn();
    const peerTimes: number[] = [];
    try {
      for (let i = 0; i < 200 && !(await Deno.stat(ctl).then(() => true, () => false)); i++) {
        await new Promise((r) => setTimeout(r, 25));
      }
      for (let i = 0; i < 100; i++) {
        const t0 = performance.now();
        const out = await sshCommand([...base, `${sshd.user}@${sshd.host}`, "true"]);
        if (!out.success) throw new Error("ControlMaster exec failed");
        peerTimes.push(performance.now() - t0);
      }
    } finally {
      master.kill("SIGTERM");
      await master.status;
    }
    const p50 = percentile(ourTimes, 0.5), p99 = percentile(ourTimes, 0.99);
    const q50 = percentile(peerTimes, 0.5), q99 = percentile(peerTimes, 0.99);
    rows.push({
      metric: "Exec round trip p50 / p99 (100 runs)",
      value: `${p50.toFixed(1)} / ${p99.toFixed(1)} ms`,
      peer: `${q50.toFixed(1)} / ${q99.toFixed(1)} ms ControlMaster`,
      ratio: `${(p50 / q50).toFixed(2)}×`,
      goal: "≤ 1.1× ControlMaster",
    });

    // Connect time and memory per idle connection.
    const rssBefore = Deno.memoryUsage().rss;
    const connectTimes: number[] = [];
    for (let id = 2; id <= 201; id += 20) {
      const batch = [];
      for (let j = id; j < id + 20 && j <= 201; j++) {
        batch.push((async () => {
          const t0 = performance.now();
          await f.pool.connect(j);
          connectTimes.push(performance.now() - t0);
        })());
      }
      await Promise.all(batch);
    }
    const perConn = (Deno.memoryUsage().rss - rssBefore) / 200 / 1024;
    rows.push({
      metric: "Connect + auth, p50 (200 connections, 20 at a time)",
      value: `${percentile(connectTimes, 0.5).toFixed(0)} ms`,
      goal: "reported",
    });
    rows.push({
      metric: "RSS per idle SSH connection (200 connections)",
      value: `${perConn.toFixed(0)} KiB`,
      goal: "reported (≤ 300 MB for 1,000 in the scale issue)",
    });
  } finally {
    await f.close();
    await sshd.close();
  }
  return rows;
}
