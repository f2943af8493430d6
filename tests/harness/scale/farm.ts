/**
 * A farm of real OpenSSH servers standing in for many agent instances (test-only): K sshds (one per
 * `perSshd` instances, each serving that many instance connections), all inside one private network
 * namespace joined to this one by a veth pair (tests/harness/netns.ts). In that namespace a small
 * process (stand_in.ts) listens on 127.0.0.1:3000 and 127.0.0.1:18789, the two tunnel targets every
 * instance has, so the control plane's tunnel probes succeed without touching this machine's ports.
 *
 * One namespace serves the whole farm rather than one per sshd: the targets are loopback addresses *as
 * sshd sees them*, so every sshd of the farm shares the stand-ins, and each sshd still runs in its own
 * mount + PID namespace (tests/harness/sshd.ts), so stopping one kills exactly its sessions.
 *
 * Every sshd accepts one authorized_keys line: the control plane's public key with the product's
 * restrictions (core/ssh/authorized_line.ts).
 */
import { fileURLToPath } from "node:url";
import type { SshEndpoint } from "../../../core/plugins/runtime_backend.ts";
import { type NetnsHost, netnsHost } from "../netns.ts";
import { type Sshd, startSshd } from "../sshd.ts";

/** sshd_config keywords the farm sets itself (sshd keeps the *first* value of a keyword, so they are replaced). */
const FARM_CONFIG: Record<string, string> = {
  LogLevel: "ERROR",
  // Every instance connection of a restart arrives at once: never drop an unauthenticated one.
  MaxStartups: "4000:100:8000",
  MaxSessions: "100",
  UseDNS: "no",
  LoginGraceTime: "60",
  ClientAliveInterval: "0",
  // The control plane sends its own keepalives; TCP keepalive adds nothing here.
  TCPKeepAlive: "no",
};

/** How to build the farm. */
export interface FarmOptions {
  /** Instances the farm serves (instance i is served by sshd floor(i / perSshd)). */
  instances: number;
  /** Instance connections per sshd, default 100. */
  perSshd?: number;
  /** The authorized_keys line every sshd accepts (use authorizedLine() with the control plane's key). */
  authorizedLine: string;
  /** Progress lines (stderr by default). */
  progress?: (line: string) => void;
}

/** A running farm. */
export interface Farm {
  netns: NetnsHost;
  sshds: Sshd[];
  perSshd: number;
  /** Endpoint (with the expected host key) of instance `i` (0-based). */
  endpoint(i: number): SshEndpoint;
  /** Index of the sshd serving instance `i`. */
  sshdOf(i: number): number;
  /** Stops sshd `k` (its sessions die with it: the connections of its instances drop). */
  stopSshd(k: number): Promise<void>;
  /** Starts sshd `k` again on the same address, port and host key. */
  startSshd(k: number): Promise<void>;
  /** Stops every sshd and the stand-ins, removes the namespace and the sshd folders. Never throws. */
  close(): Promise<void>;
}

/** Replaces the farm's keywords in sshd `s`'s config, then restarts it so they apply. */
async function tuneConfig(s: Sshd): Promise<void> {
  await s.stop();
  const path = `${s.dir}/sshd_config`;
  const lines = (await Deno.readTextFile(path)).split("\n")
    .filter((l) => !(l.trim().split(/\s+/)[0] in FARM_CONFIG));
  lines.push(...Object.entries(FARM_CONFIG).map(([k, v]) => `${k} ${v}`), "");
  await Deno.writeTextFile(path, lines.join("\n"));
  await s.start();
}

/** Starts the stand-in services inside the namespace; resolves once they listen. */
async function startStandIns(ns: string): Promise<Deno.ChildProcess> {
  const script = fileURLToPath(new URL("./stand_in.ts", import.meta.url));
  const child = new Deno.Command("ip", {
    args: ["netns", "exec", ns, "setpriv", "--pdeathsig", "SIGKILL", Deno.execPath(), "run", "--allow-net", script],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const deadline = setTimeout(() => reader.cancel().catch(() => {}), 30_000);
  try {
    while (!text.includes("ready")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
  } finally {
    clearTimeout(deadline);
  }
  if (!text.includes("ready")) {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
    const err = await new Response(child.stderr).text().catch(() => "");
    await child.status;
    throw new Error(`the stand-in services did not start in ${ns}: ${err.trim()}`);
  }
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  child.stderr.cancel().catch(() => {});
  return child;
}

/** Runs `fn` over `items` with at most `limit` at a time; after a failure starts nothing new, waits for the rest, rethrows. */
async function pooled<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown = null;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length && failure === null) {
      try {
        await fn(items[next++]);
      } catch (e) {
        failure ??= e;
      }
    }
  }));
  if (failure !== null) throw failure;
}

/** Starts the farm: namespace, stand-ins, then ceil(instances / perSshd) tuned sshds. */
export async function startFarm(opts: FarmOptions): Promise<Farm> {
  const perSshd = opts.perSshd ?? 100;
  const count = Math.ceil(opts.instances / perSshd);
  const progress = opts.progress ?? ((l: string) => console.error(l));
  // The upper half of netns.ts's index range, away from the low blocks an engine's subnet pool hands out first.
  const netns = await netnsHost(8_192 + Math.floor(Math.random() * 7_800));
  let standIns: Deno.ChildProcess | null = null;
  const sshds: Sshd[] = [];
  const close = async () => {
    await Promise.all(sshds.map((s) => s.close().catch(() => {})));
    if (standIns) {
      try {
        standIns.stdin.close();
      } catch { /* closed */ }
      try {
        standIns.kill("SIGKILL");
      } catch { /* gone */ }
      await standIns.status.catch(() => {});
    }
    await netns.close().catch(() => {});
  };
  try {
    standIns = await startStandIns(netns.name);
    const slots = Array.from({ length: count }, (_, k) => k);
    const started: (Sshd | undefined)[] = new Array(count);
    await pooled(slots, 4, async (k) => {
      const s = await startSshd({
        authorizedKeys: [opts.authorizedLine],
        netns: netns.name,
        listenAddress: netns.address,
        // A private namespace: no port can collide.
        port: 2200 + k,
      });
      sshds.push(s);
      await tuneConfig(s);
      started[k] = s;
    });
    sshds.splice(0, sshds.length, ...started.map((s) => s!));
    progress(`[scale] farm: ${count} sshd(s) in ${netns.name} at ${netns.address}, ${perSshd} instances each`);
  } catch (e) {
    await close();
    throw e;
  }
  return {
    netns,
    sshds,
    perSshd,
    sshdOf: (i) => Math.floor(i / perSshd),
    endpoint(i) {
      const s = sshds[Math.floor(i / perSshd)];
      if (!s) throw new Error(`instance ${i} is outside the farm (${count * perSshd} instances)`);
      return { host: s.host, port: s.port, username: s.user, hostKey: s.hostPublicKey };
    },
    stopSshd: (k) => sshds[k].stop(),
    startSshd: (k) => sshds[k].start(),
    close,
  };
}
