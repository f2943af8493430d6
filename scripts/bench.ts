/**
 * `deno task bench`: the project's performance record, printed as one table. Later issues add rows
 * (tunnel throughput vs OpenSSH, exec vs ControlMaster, ...) with a peer measured in the same run.
 * BENCH_ONLY=<group> runs one group (ssh, plugins, desktop, chat, instances, scale); BENCH_SKIP_INSTANCES=1 leaves out
 * the instance rows. The `scale` group (100, 500 and 1,000 instances; about 9 minutes) runs only when asked for:
 * `BENCH_ONLY=scale deno task bench`, or `deno task bench --scale` for the full run plus it (scripts/bench_scale.ts).
 */
import { fileURLToPath } from "node:url";
import { freePort, waitFor200 } from "./_server_probe.ts";
import { type BenchRow as Row, sshBench } from "./bench_ssh.ts";
import { instanceBench } from "./bench_instances.ts";
import { pluginBench } from "./bench_plugins.ts";
import { desktopBench } from "./bench_desktop.ts";
import { chatBench } from "./bench_chat.ts";
import { scaleBench } from "./bench_scale.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const RUNS = Number(Deno.env.get("BENCH_RUNS") ?? 5);
const ONLY = Deno.env.get("BENCH_ONLY");
const SKIP_INSTANCES = Deno.env.get("BENCH_SKIP_INSTANCES") === "1";
const WITH_SCALE = Deno.args.includes("--scale");

/** Process start → first 200 on /health, with the binary's permission flags (islands prebuilt). */
async function coldStart(): Promise<number> {
  const port = freePort();
  const dataPath = `./data/bench-${crypto.randomUUID().slice(0, 8)}`;
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "serve"],
    cwd: ROOT,
    env: { CLAWORC_DATA_PATH: dataPath, CLAWORC_PORT: String(port), CLAWORC_LOG_LEVEL: "error" },
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    return await waitFor200(`http://127.0.0.1:${port}/health`, started, 30_000);
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await Deno.remove(`${ROOT}/${dataPath}`, { recursive: true }).catch(() => {});
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Cold start (islands built first), then the SSH rows. */
async function sshRows(): Promise<Row[]> {
  const build = await new Deno.Command(Deno.execPath(), { args: ["task", "-q", "build"], cwd: ROOT }).output();
  if (!build.success) throw new Error("island build failed");
  const starts: number[] = [];
  for (let i = 0; i < RUNS; i++) starts.push(await coldStart());
  return [
    {
      metric: `Cold start to first 200 on /health (median of ${RUNS})`,
      value: `${Math.round(median(starts))} ms`,
      goal: "≤ 500 ms",
    },
    ...await sshBench(),
  ];
}

/** The groups, in the order a full run measures them. */
const GROUPS: Record<string, () => Promise<Row[]>> = {
  ssh: sshRows,
  plugins: pluginBench,
  desktop: desktopBench,
  chat: chatBench,
  instances: instanceBench,
  scale: scaleBench,
};
if (ONLY && !(ONLY in GROUPS)) throw new Error(`BENCH_ONLY must be one of ${Object.keys(GROUPS).join(", ")}.`);
const rows: Row[] = [];
for (const [name, run] of Object.entries(GROUPS)) {
  if (ONLY ? name !== ONLY : (name === "instances" && SKIP_INSTANCES) || (name === "scale" && !WITH_SCALE)) continue;
  rows.push(...await run());
}
const header = ["Metric", "Claworc", "Peer", "Ratio", "Goal"];
const table = [header, ...rows.map((r) => [r.metric, r.value, r.peer ?? "—", r.ratio ?? "—", r.goal])];
const widths = header.map((_, i) => Math.max(...table.map((row) => row[i].length)));
for (const [i, row] of table.entries()) {
  console.log("| " + row.map((cell, j) => cell.padEnd(widths[j])).join(" | ") + " |");
  if (i === 0) console.log("|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|");
}
