/**
 * The bench's side of serve_scale.ts (test-only): seeds a data folder, spawns the control plane as a child
 * process (so its memory is its own, read from /proc/<pid>/status), sends it commands, stops it with a
 * signal as an operator would. The child's stderr (the control plane's log) goes to a file.
 */
import { fileURLToPath } from "node:url";
import type { ScaleCommand, ScaleSpec } from "./serve_scale.ts";
import { lines } from "../lines.ts";

const ENTRY = fileURLToPath(new URL("./serve_scale.ts", import.meta.url));

/** Writes the spec where the child can read it. */
export async function writeSpec(path: string, spec: ScaleSpec): Promise<void> {
  await Deno.writeTextFile(path, JSON.stringify(spec));
}

/** Runs `serve_scale.ts seed`: the data folder as the product makes it, the admin, the spec's rows. */
export async function seedData(specPath: string): Promise<{ publicKey: string; instances: number }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ENTRY, "seed", specPath],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (!out.success) throw new Error(`seeding failed: ${new TextDecoder().decode(out.stderr).trim() || text}`);
  return JSON.parse(text.split("\n").at(-1)!);
}

/** Resident set size of a process, from /proc/<pid>/status (VmRSS), in bytes. */
export async function rssBytes(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1]);
  if (!Number.isFinite(kb)) throw new Error(`no VmRSS for ${pid}`);
  return kb * 1024;
}

/** A running serve_scale.ts child. */
export class ScaleChild {
  /** performance.now() just before the spawn. */
  readonly spawnedAt: number;
  readonly pid: number;
  /** Resolves with the ready line (rejects when the child exits first). */
  readonly ready: Promise<{ url: string; sshOptionsApplied: boolean }>;
  readonly status: Promise<Deno.CommandStatus>;
  #child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #nextId = 1;
  #exited = false;

  private constructor(specPath: string, logPath: string) {
    this.spawnedAt = performance.now();
    // BENCH_SCALE_V8_FLAGS (e.g. --trace-gc) is handed to the child's V8 for diagnosis; what it prints lands in the log.
    const v8 = Deno.env.get("BENCH_SCALE_V8_FLAGS");
    const child = this.#child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", ...(v8 ? [`--v8-flags=${v8}`] : []), ENTRY, "serve", specPath],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.pid = this.#child.pid;
    this.status = this.#child.status;
    this.#writer = this.#child.stdin.getWriter();
    // The control plane's log, kept for the report.
    const log = Deno.openSync(logPath, { append: true, create: true, write: true });
    const logWriter = log.writable.getWriter();
    const toLog = (bytes: Uint8Array) => logWriter.write(bytes).catch(() => {});
    child.stderr.pipeTo(new WritableStream({ write: toLog, close: () => void logWriter.close().catch(() => {}) }))
      .catch(() => {});
    let onReady!: (v: { url: string; sshOptionsApplied: boolean }) => void;
    let onFail!: (e: Error) => void;
    this.ready = new Promise((res, rej) => {
      onReady = res;
      onFail = rej;
    });
    this.ready.catch(() => {});
    this.status.then((s) => {
      this.#exited = true;
      const err = new Error(`the control plane exited (code ${s.code}, signal ${s.signal}); log: ${logPath}`);
      onFail(err);
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
    });
    (async () => {
      for await (const line of lines(child.stdout)) {
        let msg;
        try {
          msg = JSON.parse(line);
        } catch {
          // Not the protocol (e.g. V8 diagnostics printed to stdout): keep it with the log.
          toLog(new TextEncoder().encode(line + "\n"));
          continue;
        }
        if (msg.ready) onReady(msg);
        const p = this.#pending.get(msg.id);
        if (!p) continue;
        this.#pending.delete(msg.id);
        if (msg.ok) p.resolve(msg.result);
        else p.reject(new Error(`command failed in the child: ${msg.error}`));
      }
    })().catch(() => {});
  }

  /** Spawns `serve_scale.ts serve spec` (does not wait: see `ready`). */
  static spawn(specPath: string, logPath: string): ScaleChild {
    return new ScaleChild(specPath, logPath);
  }

  get exited(): boolean {
    return this.#exited;
  }

  rss(): Promise<number> {
    return rssBytes(this.pid);
  }

  /** Sends a command; resolves with its result. */
  async command<T = Record<string, unknown>>(cmd: ScaleCommand): Promise<T> {
    if (this.#exited) throw new Error("the control plane has exited");
    const id = this.#nextId++;
    const answer = new Promise<unknown>((resolve, reject) => this.#pending.set(id, { resolve, reject }));
    await this.#writer.write(new TextEncoder().encode(JSON.stringify({ ...cmd, id }) + "\n"));
    return await answer as T;
  }

  /** Sends `signal`, waits for the exit (SIGKILL after `graceMs`); resolves with how long it took. */
  async stop(
    signal: Deno.Signal = "SIGTERM",
    graceMs = 30_000,
  ): Promise<{ ms: number; code: number; killed: boolean }> {
    const started = performance.now();
    let killed = false;
    if (!this.#exited) {
      try {
        this.#child.kill(signal);
      } catch { /* gone */ }
      const timer = setTimeout(() => {
        killed = true;
        try {
          this.#child.kill("SIGKILL");
        } catch { /* gone */ }
      }, graceMs);
      await this.status;
      clearTimeout(timer);
    }
    await this.#writer.close().catch(() => {});
    const { code } = await this.status;
    return { ms: performance.now() - started, code, killed };
  }
}
