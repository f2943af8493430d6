/**
 * Desktop rows of `deno task bench`: the latency the desktop proxy adds. A WebSocket echo server stands
 * where websockify stands in an instance (127.0.0.1:3000 inside a network namespace, behind a harness
 * sshd holding the control plane's restricted key line). Both sides send a 10-byte RFB
 * FramebufferUpdateRequest (a message every viewer may send) and wait for it to come back:
 * - ours: a WebSocket client in its own process → the app's `/desktop/websockify` route (session,
 *   Origin, RFB filter) → its own direct-tcpip channel → the echo;
 * - peer: a WebSocket opened straight on a direct-tcpip channel of the same SSH connection
 *   (`openChannelWebSocket`, what the route itself uses upstream), no proxy in between.
 * The difference is what the proxy adds: the browser-facing socket, the filter and the pump.
 * Batches alternate between the two so drift affects both alike.
 */
import { openChannelWebSocket } from "../core/mod.ts";
import { sshDefaults } from "../core/ssh/options.ts";
import { desktopDefaults, desktopPlugin } from "../plugins/desktop/mod.tsx";
import { ORIGIN } from "../tests/_helpers/harness.ts";
import { desktopWorld } from "../tests/plugins/desktop/_desktop_world.ts";
import { handshake, updateRequest } from "../tests/plugins/desktop/_rfb.ts";
import type { BenchRow } from "./bench_ssh.ts";

const ROUNDS = Number(Deno.env.get("BENCH_DESKTOP_ROUNDS") ?? 2000);
const BATCHES = 4;
const WARMUP = 200;
const FRAME = updateRequest(true, 0, 0, 1280, 800);

/** Sends `FRAME` and waits for its echo, `n` times; returns each round trip in ms. */
async function roundTrips(send: (b: Uint8Array) => void, next: () => Promise<unknown>, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const echoed = next();
    send(FRAME);
    await echoed;
    out.push(performance.now() - t0);
  }
  return out;
}

/** A queue of incoming frames: `next()` resolves with the next one. */
function frames() {
  const queued: unknown[] = [];
  const waiting: ((v: unknown) => void)[] = [];
  return {
    push: (v: unknown) => waiting.length ? waiting.shift()!(v) : queued.push(v),
    next: () => queued.length ? Promise.resolve(queued.shift()) : new Promise((r) => waiting.push(r)),
  };
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))];

/** One batch through the route, in a child process (this file with `--desktop-client`). */
async function oursBatch(url: string, cookie: string, n: number): Promise<number[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", import.meta.filename!, "--desktop-client", url, cookie, String(n)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`desktop client failed: ${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
}

/** The desktop rows. */
export async function desktopBench(): Promise<BenchRow[]> {
  const w = await desktopWorld("echo", [desktopPlugin()], sshDefaults);
  try {
    const channel = await w.t.services.ssh.openTunnel(w.id, desktopDefaults.tunnel);
    const direct = await openChannelWebSocket(channel, {
      host: desktopDefaults.host,
      path: desktopDefaults.path,
      protocols: ["binary"],
    });
    const incoming = frames();
    direct.onmessage = incoming.push;
    const send = (b: Uint8Array) => direct.send(b);
    await roundTrips(send, incoming.next, WARMUP);
    await oursBatch(w.url, w.admin, WARMUP);
    const ours: number[] = [], peer: number[] = [];
    for (let i = 0; i < BATCHES; i++) {
      peer.push(...await roundTrips(send, incoming.next, ROUNDS / BATCHES));
      ours.push(...await oursBatch(w.url, w.admin, ROUNDS / BATCHES));
    }
    direct.close();
    const row = (name: string, q: number): BenchRow => {
      const o = quantile(ours, q), p = quantile(peer, q);
      return {
        metric: `Desktop proxy WebSocket round trip ${name}, 10-byte RFB frame (${ours.length} round trips each side)`,
        value: `${o.toFixed(2)} ms`,
        peer: `${p.toFixed(2)} ms same SSH channel, no proxy`,
        ratio: `+${(o - p).toFixed(2)} ms`,
        goal: name === "p50" ? "added p50 ≤ 1 ms" : "—",
      };
    };
    return [row("p50", 0.5), row("p99", 0.99)];
  } finally {
    await w.close();
  }
}

/** The child: opens the route like a browser, does the RFB handshake, then times `n` round trips. */
async function desktopClient(url: string, cookie: string, n: number) {
  const ws = new WebSocket(url, { headers: { cookie, origin: ORIGIN }, protocols: ["binary"] } as unknown as string[]);
  ws.binaryType = "arraybuffer";
  const incoming = frames();
  ws.onmessage = (e) => incoming.push(e.data);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onclose = (e) => reject(new Error(`closed: ${e.code} ${e.reason}`));
  });
  const echoed = incoming.next();
  ws.send(handshake());
  await echoed;
  console.log(JSON.stringify(await roundTrips((b) => ws.send(b), incoming.next, n)));
  ws.close();
  Deno.exit(0);
}

if (import.meta.main && Deno.args[0] === "--desktop-client") {
  const [, url, cookie, n] = Deno.args;
  await desktopClient(url, cookie, Number(n));
} else if (import.meta.main) {
  for (const r of await desktopBench()) console.log(`${r.metric}: ${r.value} vs ${r.peer} (${r.ratio})`);
}
