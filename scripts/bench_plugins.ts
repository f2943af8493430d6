/**
 * Feature-plugin rows of `deno task bench`: file download and upload through the HTTP API vs OpenSSH
 * `sftp`, terminal output throughput through the WebSocket vs `ssh -tt`, and control-plane memory per
 * idle attached terminal. The instance is a real OpenSSH sshd from the test harness on loopback; the
 * app listens on a real port. Every client runs in its own process (curl, sftp, ssh, and this file run
 * as a WebSocket client), so the control plane's single thread does only the control plane's work.
 */
import { createHash } from "node:crypto";
import v8 from "node:v8";
import vm from "node:vm";
import { authorizedLine } from "../core/ssh/authorized_line.ts";
import { PRIVATE_KEY_FILE } from "../core/ssh/key_store.ts";
import { sshDefaults } from "../core/ssh/options.ts";
import { remoteFileStream } from "../plugins/files/file_stream.ts";
import { filesPlugin } from "../plugins/files/mod.tsx";
import { filesDefaults } from "../plugins/files/options.ts";
import { openSession } from "../plugins/files/session.ts";
import { builtinPlugins } from "../plugins/mod.ts";
import { terminalPlugin } from "../plugins/terminal/mod.tsx";
import { ORIGIN, type TestApp, testApp } from "../tests/_helpers/harness.ts";
import { fixedBackend } from "../tests/harness/fixed_backend.ts";
import { type Sshd, startSshd, TEST_USER } from "../tests/harness/sshd.ts";
import { ownedDir } from "../tests/plugins/files/_files_fixture.ts";
import type { BenchRow } from "./bench_ssh.ts";

const MB = 1 << 20;
const RUNS = Number(Deno.env.get("BENCH_PLUGIN_RUNS") ?? 3);
const FILE_MB = Number(Deno.env.get("BENCH_FILE_MB") ?? 200);
const TERM_MB = Number(Deno.env.get("BENCH_TERM_MB") ?? 50);
const IDLE_TERMINALS = Number(Deno.env.get("BENCH_TERMINALS") ?? 20);
const TIMEOUT_MS = 120_000;
/** The cipher OpenSSH peers use (AES-NI makes it OpenSSH's fastest here). */
const PEER_CIPHER = "aes128-gcm@openssh.com";
const SSH_OPTS = ["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"];
const COLS = 120, ROWS = 40;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mbps = (bytes: number, ms: number) => bytes / MB / (ms / 1000);
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;

/** V8's collector (the flag can be set at run time; `deno task bench` does not pass --expose-gc). */
function collector(): () => void {
  v8.setFlagsFromString("--expose-gc");
  return vm.runInNewContext("gc") as () => void;
}

// ---------------------------------------------------------------------------------------------
// Child-process plumbing
// ---------------------------------------------------------------------------------------------

/** Reads a child's output, keeping only a tail of the text, and lets callers wait for a marker in it. */
class OutputWatch {
  bytes = 0;
  #tail = "";
  #decoder = new TextDecoder();
  #waiters: { marker: string; resolve: () => void }[] = [];
  readonly done: Promise<void>;

  constructor(stream?: ReadableStream<Uint8Array>) {
    this.done = (async () => {
      if (stream) { for await (const chunk of stream) this.push(chunk); }
    })().catch(() => {});
  }

  push(chunk: Uint8Array) {
    this.bytes += chunk.length;
    this.#tail = (this.#tail + this.#decoder.decode(chunk, { stream: true })).slice(-8192);
    this.#waiters = this.#waiters.filter((w) => {
      if (!this.#tail.includes(w.marker)) return true;
      w.resolve();
      return false;
    });
  }

  /** Resolves when `marker` shows in the output after this call (the tail is cleared first). */
  async waitFor(marker: string, timeoutMs = TIMEOUT_MS, what = marker): Promise<void> {
    this.#tail = "";
    let timer: ReturnType<typeof setTimeout> | undefined;
    const seen = new Promise<void>((resolve) => this.#waiters.push({ marker, resolve }));
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not seen within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([seen, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** An interactive child: text written to its stdin, its stdout watched (stderr kept for errors). */
function interactive(cmd: string, args: string[], env: Record<string, string> = {}) {
  const child = new Deno.Command(cmd, { args, env, stdin: "piped", stdout: "piped", stderr: "piped" }).spawn();
  const writer = child.stdin.getWriter();
  const out = new OutputWatch(child.stdout);
  let stderr = "";
  const errDone = (async () => {
    for await (const c of child.stderr.pipeThrough(new TextDecoderStream())) stderr = (stderr + c).slice(-4096);
  })().catch(() => {});
  return {
    child,
    out,
    stderr: () => stderr,
    write: (s: string) => writer.write(new TextEncoder().encode(s)),
    async close() {
      await writer.close().catch(() => {});
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await child.status;
      clearTimeout(timer);
      await Promise.all([out.done, errDone]);
    },
  };
}

async function run(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", stdin: "null" }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) throw new Error(`${cmd} failed: ${new TextDecoder().decode(out.stderr).trim()}\n${text}`);
  return text;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  const file = await Deno.open(path);
  for await (const chunk of file.readable) hash.update(chunk);
  return hash.digest("hex");
}

/** Checks that `path` holds the expected bytes (so a broken transfer cannot report a speed). */
async function verify(path: string, size: number, digest: string, what: string) {
  const st = await Deno.stat(path);
  if (st.size !== size) throw new Error(`${what}: ${st.size} bytes, expected ${size}`);
  if (await sha256File(path) !== digest) throw new Error(`${what}: content differs (SHA-256)`);
}

// ---------------------------------------------------------------------------------------------
// The world: the app (files + terminal plugins) on a real port, one instance that is a harness sshd
// ---------------------------------------------------------------------------------------------

interface World {
  t: TestApp;
  sshd: Sshd;
  id: number;
  cookie: string;
  /** http://127.0.0.1:<port> */
  http: string;
  /** A folder the harness user owns (the files plugin's only root). */
  root: string;
  /** The harness user's uid and gid. */
  owner: { uid: number; gid: number };
  /** A local scratch folder for the clients' copies. */
  scratch: string;
  keyFile: string;
  /** `ssh`/`sftp` arguments that reach the instance with the control plane's own key. */
  sshArgs: string[];
  close(): Promise<void>;
}

async function idOf(flag: string): Promise<number> {
  return Number((await run("id", [flag, TEST_USER])).trim());
}

async function world(): Promise<World> {
  const endpoints = new Map<string, { host: string; port: number; username: string }>();
  const tag = crypto.randomUUID().slice(0, 8);
  const plugins = [
    ...builtinPlugins().filter((p) => p.name !== "files" && p.name !== "terminal"),
    fixedBackend(endpoints),
  ];
  const root = `/var/lib/${TEST_USER}/bench-files-${tag}`;
  const tmuxDir = `/tmp/claworc-bench-tmux-${tag}`;
  plugins.push(filesPlugin({ roots: [root] }), terminalPlugin());
  // Production SSH timings (the tests' fast probes would add traffic to every measurement).
  const t = await testApp({}, plugins, { ssh: sshDefaults });
  const cleanup: (() => Promise<unknown>)[] = [() => t.close()];
  const close = async () => {
    for (const f of cleanup.reverse()) await f().catch(() => {});
  };
  try {
    // The plugin's tmux server (`tmux -L claworc`) gets a private socket folder, so a terminal test
    // running meanwhile against another harness sshd (same login user) never shares it.
    const sshd = await startSshd({
      authorizedKeys: [authorizedLine(t.services.sshKeys.publicKey, t.services.ssh.targets)],
      extraConfig: `SetEnv TMUX_TMPDIR=${tmuxDir}`,
    });
    cleanup.push(() => sshd.close());
    const owner = { uid: await idOf("-u"), gid: await idOf("-g") };
    await ownedDir(root, owner);
    await ownedDir(tmuxDir, owner, 0o700);
    cleanup.push(() => Deno.remove(root, { recursive: true }), () => Deno.remove(tmuxDir, { recursive: true }));
    const scratch = await Deno.makeTempDir({ prefix: "claworc-bench-" });
    cleanup.push(() => Deno.remove(scratch, { recursive: true }));
    endpoints.set("bench", { host: sshd.host, port: sshd.port, username: sshd.user });
    const id = t.services.instances.insert("bench", "Bench").id;
    const cookie = await t.setupAdmin();
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req, info) => t.app.fetch(req, info));
    cleanup.push(() => server.shutdown());
    await t.services.ssh.connect(id);
    const keyFile = `${t.dataPath}/${PRIVATE_KEY_FILE}`;
    return {
      t,
      sshd,
      id,
      cookie,
      http: `http://127.0.0.1:${server.addr.port}`,
      root,
      owner,
      scratch,
      keyFile,
      sshArgs: [...SSH_OPTS, "-i", keyFile, "-c", PEER_CIPHER],
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Files: download and upload through the API (curl) vs OpenSSH sftp
// ---------------------------------------------------------------------------------------------

/** Writes `size` pseudo-random bytes to `path`; returns their SHA-256. */
async function randomFile(path: string, size: number): Promise<string> {
  const block = new Uint8Array(MB);
  for (let at = 0; at < MB; at += 65_536) crypto.getRandomValues(block.subarray(at, at + 65_536));
  const hash = createHash("sha256");
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  try {
    for (let i = 0; i < size / MB; i++) {
      new DataView(block.buffer).setUint32(0, i); // every block differs
      hash.update(block);
      for (let off = 0; off < block.length;) off += await file.write(block.subarray(off));
    }
  } finally {
    file.close();
  }
  return hash.digest("hex");
}

/** A curl call against the API; returns curl's own total time (ms) and the answer, after checking status and bytes. */
async function curl(w: World, args: string[], expect: { field: "size_download" | "size_upload"; bytes?: number }) {
  const out = await run("curl", [
    "-sS",
    "-H",
    `Cookie: ${w.cookie}`,
    "-H",
    `Origin: ${ORIGIN}`,
    "-H",
    "Expect:",
    "-w",
    `\n%{http_code} %{${expect.field}} %{time_total}`,
    ...args,
  ]);
  const lines = out.trimEnd().split("\n");
  const [status, bytes, seconds] = lines.pop()!.split(" ").map(Number);
  const body = lines.join("\n");
  if (status !== 200 || (expect.bytes !== undefined && bytes !== expect.bytes)) {
    throw new Error(`curl ${args.at(-1)}: status ${status}, ${bytes} bytes (expected ${expect.bytes})\n${body}`);
  }
  return { ms: seconds * 1000, body };
}

/**
 * One sftp session driven through stdin; `timed` measures one command from sending it to the `!echo`
 * marker after it (so connection set-up is not counted, as the API's connection is already up).
 */
async function sftpSession(w: World) {
  const s = interactive("sftp", [
    "-b",
    "-",
    ...w.sshArgs,
    "-P",
    String(w.sshd.port),
    `${w.sshd.user}@${w.sshd.host}`,
  ]);
  let n = 0;
  const mark = async (before = "") => {
    const marker = `sftp-mark-${++n}-${crypto.randomUUID().slice(0, 6)}`;
    const seen = s.out.waitFor(marker, TIMEOUT_MS, "sftp");
    await s.write(`${before}!echo ${marker}\n`);
    await seen.catch((e) => {
      throw new Error(`${e.message}\n${s.stderr()}`);
    });
  };
  await mark();
  return {
    async timed(command: string): Promise<number> {
      const t0 = performance.now();
      await mark(`${command}\n`);
      return performance.now() - t0;
    },
    close: () => s.write("bye\n").then(() => s.close()),
  };
}

async function filesBench(w: World): Promise<BenchRow[]> {
  const size = FILE_MB * MB;
  const source = `${w.root}/source.bin`;
  const digest = await randomFile(source, size);
  await Deno.chown(source, w.owner.uid, w.owner.gid);
  const local = `${w.scratch}/local.bin`;
  await Deno.copyFile(source, local);
  const api = `${w.http}/api/v1/instances/${w.id}/files`;
  const q = (p: string) => encodeURIComponent(p);
  const download = (to: string) =>
    curl(w, ["-o", to, `${api}/download?path=${q(source)}`], {
      field: "size_download",
      bytes: size,
    });
  /** Multipart, as the browser sends it; the answer must report the whole file stored. */
  const upload = async (name: string) => {
    const r = await curl(w, ["-F", `file=@${local};filename=${name}`, `${api}/upload?path=${q(w.root)}`], {
      field: "size_upload",
    });
    const stored = JSON.parse(r.body).files?.[0]?.size;
    if (stored !== size) throw new Error(`API upload stored ${stored} bytes, expected ${size}`);
    return r.ms;
  };
  /** The download's SFTP leg alone: the plugin's read-ahead stream into this process, no HTTP. */
  const sftpLeg = async () => {
    const session = await openSession(w.t.services.ssh, w.id, [w.root]);
    const t0 = performance.now();
    const handle = await session.fs.open(source, "r");
    let got = 0;
    const stream = remoteFileStream(session.fs, handle, size, {
      chunk: filesDefaults.chunkBytes,
      inflight: filesDefaults.inflight,
      onEnd: () => session.end(),
    });
    for await (const chunk of stream) got += chunk.length;
    if (got !== size) throw new Error(`SFTP leg read ${got} bytes, expected ${size}`);
    return performance.now() - t0;
  };
  const sftp = await sftpSession(w);
  const down = { ours: [] as number[], peer: [] as number[] };
  const leg: number[] = [];
  const up = { ours: [] as number[], peer: [] as number[] };
  try {
    // Warm-up (JIT, SFTP paths, page cache) one way each.
    await download("/dev/null");
    await sftp.timed(`get ${source} /dev/null`);
    for (let i = 0; i < RUNS; i++) {
      // Download: curl writes the file from the API vs sftp get, into the same local folder.
      const oursOut = `${w.scratch}/down-ours.bin`, peerOut = `${w.scratch}/down-sftp.bin`;
      down.ours.push((await download(oursOut)).ms);
      down.peer.push(await sftp.timed(`get ${source} ${peerOut}`));
      leg.push(await sftpLeg());
      await verify(oursOut, size, digest, "API download");
      await verify(peerOut, size, digest, "sftp get");
      await Deno.remove(oursOut);
      await Deno.remove(peerOut);

      // Upload: the streamed upload route vs sftp put, into the instance's folder.
      up.ours.push(await upload("up-ours.bin"));
      up.peer.push(await sftp.timed(`put ${local} ${w.root}/up-sftp.bin`));
      await verify(`${w.root}/up-ours.bin`, size, digest, "API upload");
      await verify(`${w.root}/up-sftp.bin`, size, digest, "sftp put");
      await Deno.remove(`${w.root}/up-ours.bin`);
      await Deno.remove(`${w.root}/up-sftp.bin`);
    }
  } finally {
    await sftp.close();
    await Deno.remove(source).catch(() => {});
    await Deno.remove(local).catch(() => {});
  }
  const row = (what: string, ms: { ours: number[]; peer: number[] }, verb: string): BenchRow => {
    const ours = mbps(size, median(ms.ours)), peer = mbps(size, median(ms.peer));
    return {
      metric: `Files ${what}, ${FILE_MB} MB through the API (median of ${RUNS})`,
      value: `${ours.toFixed(0)} MB/s`,
      peer: `${peer.toFixed(0)} MB/s sftp ${verb} aes128-gcm`,
      ratio: ratio(ours, peer),
      goal: "≥ 0.5× sftp",
    };
  };
  const legMbps = mbps(size, median(leg)), sftpMbps = mbps(size, median(down.peer));
  return [row("download", down, "get"), {
    metric: `Files download, the SFTP leg alone: the same read-ahead into this process, no HTTP (median of ${RUNS})`,
    value: `${legMbps.toFixed(0)} MB/s`,
    peer: `${sftpMbps.toFixed(0)} MB/s sftp get aes128-gcm`,
    ratio: ratio(legMbps, sftpMbps),
    goal: "reported (bounds the download row)",
  }, row("upload", up, "put")];
}

// ---------------------------------------------------------------------------------------------
// Terminal: output throughput (WebSocket client in a child process) vs ssh -tt, memory per terminal
// ---------------------------------------------------------------------------------------------

/** The command whose output is timed and the marker printed after it (computed, so the echoed line never matches). */
function outputCommand(tag: string) {
  return {
    command: `head -c ${TERM_MB * MB} /dev/zero | base64; echo term-end-$((40+2))-${tag}`,
    marker: `term-end-42-${tag}`,
    /** Bytes the command prints (76-column base64 lines plus newlines). */
    bytes: Math.ceil(TERM_MB * MB / 3) * 4 + Math.ceil(Math.ceil(TERM_MB * MB / 3) * 4 / 76),
  };
}

/** Types a probe until its computed answer shows (keys typed before tmux has drawn can be lost). */
async function untilShellAnswers(type: (s: string) => unknown, out: OutputWatch, what: string) {
  const tag = crypto.randomUUID().slice(0, 6);
  const deadline = performance.now() + 30_000;
  while (true) {
    const seen = out.waitFor(`ready-21-${tag}`, 2_000, what);
    await type(`echo ready-$((20+1))-${tag}\r`);
    try {
      return await seen;
    } catch (e) {
      if (performance.now() > deadline) throw e;
    }
  }
}

/** Runs this file as a WebSocket client of the terminal route (`termClient` below) in its own process. */
function termClientArgs(w: World, mode: "throughput" | "idle", arg: string) {
  const url = `ws://${w.http.slice("http://".length)}/api/v1/instances/${w.id}/terminal`;
  return ["run", "-A", import.meta.filename!, "--term-client", mode, url, w.cookie, arg];
}

/** Ours: one run through the WebSocket route; ms from typing the command to the marker, and bytes received. */
async function wsThroughput(w: World): Promise<{ ms: number; received: number }> {
  const args = termClientArgs(w, "throughput", `tp-${crypto.randomUUID().slice(0, 8)}`);
  const out = await run(Deno.execPath(), args);
  return JSON.parse(out.trim().split("\n").at(-1)!);
}

/** Peer: the same command in an interactive shell over OpenSSH `ssh -tt` (optionally attached to tmux). */
async function sshThroughput(w: World, remote: string): Promise<number> {
  const s = interactive("ssh", [
    "-tt",
    ...w.sshArgs,
    "-p",
    String(w.sshd.port),
    `${w.sshd.user}@${w.sshd.host}`,
    remote,
  ], { TERM: "xterm-256color" });
  try {
    await untilShellAnswers(s.write, s.out, "ssh -tt shell");
    const { command, marker } = outputCommand(crypto.randomUUID().slice(0, 6));
    const seen = s.out.waitFor(marker, TIMEOUT_MS, "ssh -tt output");
    const t0 = performance.now();
    await s.write(`${command}\r`);
    await seen;
    return performance.now() - t0;
  } finally {
    await s.write("exit\r").catch(() => {});
    s.child.kill("SIGTERM");
    await s.close();
  }
}

async function terminalBench(w: World): Promise<BenchRow[]> {
  const { bytes } = outputCommand("x");
  const stty = `stty cols ${COLS} rows ${ROWS}`;
  const ours: number[] = [], plain: number[] = [], tmux: number[] = [];
  const received: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await wsThroughput(w);
    ours.push(r.ms);
    received.push(r.received);
    plain.push(await sshThroughput(w, `${stty}; exec bash -i`));
    tmux.push(await sshThroughput(w, `${stty}; exec tmux -u -L claworc new-session -s peer-${i}`));
  }
  const o = mbps(bytes, median(ours)), p = mbps(bytes, median(plain)), t = mbps(bytes, median(tmux));
  const rows: BenchRow[] = [{
    metric: `Terminal output, base64 of ${TERM_MB} MB = ${(bytes / MB).toFixed(0)} MB printed (median of ${RUNS}; ` +
      `tmux forwarded ${(median(received) / MB).toFixed(0)} MB; ssh -tt into the same tmux: ${t.toFixed(0)} MB/s)`,
    value: `${o.toFixed(0)} MB/s`,
    peer: `${p.toFixed(0)} MB/s ssh -tt aes128-gcm`,
    ratio: ratio(o, p),
    goal: "≥ 0.5× ssh -tt",
  }];
  return rows;
}

/** Control-plane memory per attached idle terminal: N sockets held by a child process, measured after a full GC. */
async function idleMemory(w: World): Promise<BenchRow> {
  const gc = collector();
  const settle = async () => {
    await sleep(2_000);
    for (let i = 0; i < 3; i++) (gc(), await sleep(100));
    return Deno.memoryUsage();
  };
  const before = await settle();
  const c = interactive(Deno.execPath(), termClientArgs(w, "idle", String(IDLE_TERMINALS)));
  let after: Deno.MemoryUsage;
  try {
    await c.out.waitFor("all-attached", TIMEOUT_MS, `${IDLE_TERMINALS} terminals`).catch((e) => {
      throw new Error(`${e.message}\n${c.stderr()}`);
    });
    after = await settle();
  } finally {
    await c.close();
  }
  const attached = w.t.services.audit.query({ action: "terminal.open", limit: 1000, offset: 0 }).entries
    .filter((e) => String(e.details.session_id).startsWith("idle-")).length;
  if (attached < IDLE_TERMINALS) throw new Error(`only ${attached} terminals were opened`);
  const per = (k: "rss" | "heapUsed" | "external") => (after[k] - before[k]) / IDLE_TERMINALS / 1024;
  return {
    metric: `Control-plane RSS per idle attached terminal (${IDLE_TERMINALS} terminals, after GC; ` +
      `JS heap +${per("heapUsed").toFixed(0)} KiB, external +${per("external").toFixed(0)} KiB)`,
    value: `${per("rss").toFixed(0)} KiB`,
    goal: "≤ 1 MB",
  };
}

/** The plugin rows. */
export async function pluginBench(): Promise<BenchRow[]> {
  const w = await world();
  try {
    // Memory first: after 400 MB of file transfers the heap the allocator gives back to the system
    // during the measurement outweighs 20 idle terminals (it printed negative figures).
    const memory = await idleMemory(w);
    return [...await filesBench(w), ...await terminalBench(w), memory];
  } finally {
    await w.close();
  }
}

// ---------------------------------------------------------------------------------------------
// The WebSocket client, run as `deno run -A scripts/bench_plugins.ts --term-client MODE URL COOKIE ARG`
// ---------------------------------------------------------------------------------------------

/** Opens one terminal socket; resolves once its `session` frame arrived. */
function openTerminal(url: string, cookie: string, sessionId: string, out?: OutputWatch): Promise<WebSocket> {
  const ws = new WebSocket(
    `${url}?session_id=${sessionId}&cols=${COLS}&rows=${ROWS}`,
    { headers: { cookie, origin: ORIGIN } } as unknown as string[],
  );
  ws.binaryType = "arraybuffer";
  return new Promise((resolve, reject) => {
    ws.onmessage = (e) => {
      if (typeof e.data === "string") {
        if (JSON.parse(e.data).type === "session") resolve(ws);
      } else out?.push(new Uint8Array(e.data as ArrayBuffer));
    };
    ws.onclose = (e) => reject(new Error(`terminal ${sessionId} closed: ${e.code} ${e.reason}`));
    ws.onerror = () => {};
  });
}

async function termClient(mode: string, url: string, cookie: string, arg: string) {
  if (mode === "throughput") {
    const out = new OutputWatch();
    const ws = await openTerminal(url, cookie, arg, out);
    const type = (s: string) => ws.send(new TextEncoder().encode(s));
    await untilShellAnswers(type, out, "terminal shell");
    const { command, marker } = outputCommand(crypto.randomUUID().slice(0, 6));
    const seen = out.waitFor(marker, TIMEOUT_MS, "terminal output");
    const from = out.bytes;
    const t0 = performance.now();
    type(`${command}\r`);
    await seen;
    const ms = performance.now() - t0;
    console.log(JSON.stringify({ ms, received: out.bytes - from }));
    type("exit\r");
    await sleep(200);
    ws.close();
  } else {
    const sockets: WebSocket[] = [];
    const tag = crypto.randomUUID().slice(0, 6);
    for (let i = 0; i < Number(arg); i += 10) {
      const batch = [];
      for (let j = i; j < Math.min(Number(arg), i + 10); j++) batch.push(openTerminal(url, cookie, `idle-${tag}-${j}`));
      sockets.push(...await Promise.all(batch));
    }
    console.log("all-attached");
    for await (const _ of Deno.stdin.readable) { /* held until the bench closes stdin */ }
    for (const ws of sockets) ws.close();
    await sleep(200);
  }
  Deno.exit(0);
}

if (import.meta.main && Deno.args[0] === "--term-client") {
  const [, mode, url, cookie, arg] = Deno.args;
  await termClient(mode, url, cookie, arg);
}
