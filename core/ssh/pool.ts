import type { AuditLog } from "../audit/audit_log.ts";
import type { Clock } from "../clock.ts";
import { AppError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { SshEndpoint } from "../plugins/runtime_backend.ts";
import type { LinkState, SshEvents } from "./events.ts";
import {
  type ChannelKind,
  type ExecOptions,
  type ExecResult,
  HostKeyMismatchError,
  SourceAddressRefusedError,
  SshConnection,
} from "./connection.ts";
import type { HostKeyPins } from "./host_keys.ts";
import type { SshKeyStore } from "./key_store.ts";
import { Link, type TunnelHealth } from "./link.ts";
import type { SshOptions } from "./options.ts";
import { fingerprint } from "./public_key.ts";
import { type ConnectRateLimiter, rateLimitedError } from "./rate_limiter.ts";
import { sourceIpAllowed } from "./source_ips.ts";
import type { ClientChannel, SFTPWrapper } from "./ssh2.ts";
import { TUNNEL_TARGETS, type TunnelTarget } from "./tunnel_targets.ts";
import { probeTunnel } from "./tunnel_probe.ts";
import { SampleWindow } from "../metrics_window.ts";
import { Semaphore } from "../semaphore.ts";

/** What the pool needs from the rest of the control plane. */
export interface PoolDeps {
  clock: Clock;
  keys: SshKeyStore;
  pins: HostKeyPins;
  events: SshEvents;
  limiter: ConnectRateLimiter;
  audit: AuditLog;
  log: Logger;
  options: SshOptions;
  /** Where an instance's sshd is (from the runtime backend). */
  endpoint: (instanceId: number) => Promise<SshEndpoint>;
  /** The instance's source-IP allow-list (empty = any). */
  sourceIps: (instanceId: number) => string[];
  targets?: readonly TunnelTarget[];
}

const SYSTEM = { id: null, name: "system" };

/** A refusal that retrying cannot change: a host key that differs from the pin, or a refused source address. */
function refusedForGood(e: unknown): boolean {
  return e instanceof AppError && (e.code === "SSH_HOST_KEY_MISMATCH" || e.code === "SSH_IP_BLOCKED");
}
/** Health ticks per period (each probes one slice of the connections), and the shortest tick. */
const PROBE_SLICES = 30;
const MAX_CONCURRENT_HANDSHAKES = 16;
const MIN_TICK_MS = 100;

/**
 * At most one live SSH connection per instance, shared by every feature. Connects on demand (single
 * flight) or when an instance starts, watches health in three layers, reconnects with backoff, and
 * records every transition. Channels are always opened on the *current* connection, so nothing can
 * stay bound to a dead one (the reference's stale-tunnel bug).
 */
export class SshPool {
  readonly targets: readonly TunnelTarget[];
  #links = new Map<number, Link>();
  /**
   * Handshakes in flight at once: a start with a thousand running instances would otherwise do every
   * key exchange in the same moment and stall the event loop (and /health) for seconds.
   */
  #handshakes = new Semaphore(MAX_CONCURRENT_HANDSHAKES);
  #timers: ReturnType<typeof setInterval>[] = [];
  #closed = false;

  constructor(private readonly deps: PoolDeps) {
    this.targets = deps.targets ?? TUNNEL_TARGETS;
  }

  /** Latencies of the last command probes (ms), for /metrics. */
  readonly probeLatencies = new SampleWindow(4096);

  /**
   * Starts the health scheduler: one timer per layer for all connections, each tick probing one slice
   * of them (by instance id), so every connection is probed once per period and the probes are spread
   * over it instead of arriving as one burst of a thousand channels.
   */
  startHealth(): void {
    const o = this.deps.options;
    this.#spread(o.probeIntervalMs, (links) => links.forEach((l) => void this.#probe(l)));
    this.#spread(o.tunnelProbeIntervalMs, (links) => void this.#probeTunnelsOf(links));
  }

  /** Connected links whose last good command probe is older than 1.5 periods (the scheduler fell behind). */
  overdueProbes(): number {
    const limit = 1.5 * this.deps.options.probeIntervalMs;
    const now = performance.now();
    return this.#live().filter((l) => now - Math.max(l.lastGoodProbe, l.connectedSince) > limit).length;
  }

  #spread(periodMs: number, run: (links: Link[]) => void): void {
    const slices = Math.max(1, Math.min(PROBE_SLICES, Math.floor(periodMs / MIN_TICK_MS)));
    let tick = 0;
    this.#timers.push(setInterval(() => {
      const slice = tick++ % slices;
      run(this.#live().filter((l) => l.id % slices === slice));
    }, periodMs / slices));
  }

  #live(): Link[] {
    return [...this.#links.values()].filter((l) => l.conn && !l.conn.closed);
  }

  /** The instance should be reachable now (it started): connect in the background, retrying as needed. */
  start(instanceId: number): void {
    const link = this.#link(instanceId);
    link.wanted = true;
    if (link.conn || link.connecting || link.loop) return;
    this.connect(instanceId).catch(() => this.#startLoop(link));
  }

  /** The instance stopped or is being deleted: abort any reconnect loop and close the connection. */
  stop(instanceId: number, reason = "instance stopped"): void {
    const link = this.#links.get(instanceId);
    if (!link) return;
    link.wanted = false;
    link.loop?.abort();
    link.loop = null;
    const conn = link.conn;
    link.conn = null;
    conn?.close();
    this.#transition(link, "disconnected", reason);
  }

  /** Forgets everything about a deleted instance (its events and pins go with the database rows). */
  forget(instanceId: number): void {
    this.stop(instanceId, "instance deleted");
    this.#links.delete(instanceId);
    this.deps.limiter.forget(instanceId);
  }

  /** The live connection, connecting first when needed; concurrent callers share one attempt. */
  connect(instanceId: number): Promise<SshConnection> {
    if (this.#closed) return Promise.reject(new AppError("SSH_UNAVAILABLE", "The SSH pool is shut down."));
    const link = this.#link(instanceId);
    link.wanted = true;
    if (link.conn && !link.conn.closed) return Promise.resolve(link.conn);
    link.connecting ??= this.#dial(link).finally(() => link.connecting = null);
    return link.connecting;
  }

  /** The current connection without connecting (undefined when there is none). */
  current(instanceId: number): SshConnection | undefined {
    const conn = this.#links.get(instanceId)?.conn;
    return conn && !conn.closed ? conn : undefined;
  }

  /** Channels open now over every live connection, by kind. */
  openChannels(): Record<ChannelKind, number> {
    const sum: Record<ChannelKind, number> = { exec: 0, stream: 0, pty: 0, sftp: 0, tunnel: 0 };
    for (const link of this.#links.values()) {
      if (!link.conn || link.conn.closed) continue;
      for (const [kind, n] of Object.entries(link.conn.openChannels())) sum[kind as ChannelKind] += n;
    }
    return sum;
  }

  async exec(instanceId: number, command: string, opts?: ExecOptions): Promise<ExecResult> {
    return (await this.connect(instanceId)).exec(command, opts);
  }

  async shell(instanceId: number, opts?: { term?: string; cols?: number; rows?: number }): Promise<ClientChannel> {
    return (await this.connect(instanceId)).shell(opts);
  }

  async sftp(instanceId: number): Promise<SFTPWrapper> {
    return (await this.connect(instanceId)).sftp();
  }

  /** A duplex byte stream to a named target inside the instance, on the current connection. */
  async openTunnel(instanceId: number, name: string) {
    const target = this.targets.find((t) => t.name === name);
    if (!target) throw new AppError("NOT_FOUND", `No tunnel target named "${name}".`);
    return (await this.connect(instanceId)).forward(target.host, target.port);
  }

  /**
   * Applies a changed source-IP list to the live connection: one from an address the list no longer
   * allows is closed (and not reconnected from that address).
   */
  revalidateSourceIps(instanceId: number): void {
    const link = this.#links.get(instanceId);
    const conn = link?.conn;
    const list = this.deps.sourceIps(instanceId);
    if (!link || !conn || !list.length || sourceIpAllowed(list, conn.localAddress)) return;
    this.#ipBlocked(link, conn.localAddress, list);
    link.wanted = false;
    link.loop?.abort();
    link.loop = null;
    link.conn = null;
    conn.close();
    this.#transition(link, "failed", `source address ${conn.localAddress} no longer allowed`);
  }

  /**
   * Instances the pool is keeping connected (started and not stopped): connected, connecting, being
   * retried or failed. One only asked for on demand whose connect failed, with nothing retrying it (a
   * stopped instance's tab), is not: key rotation would fail on it until it next starts.
   */
  activeIds(): number[] {
    return [...this.#links.values()].filter((l) => l.wanted && (l.state !== "disconnected" || l.connecting))
      .map((l) => l.id);
  }

  /** The instance's SSH endpoint, from the runtime backend. */
  endpoint(instanceId: number): Promise<SshEndpoint> {
    return this.deps.endpoint(instanceId);
  }

  /** Proves `privateKey` alone can log in to the instance now, on a separate short-lived connection. */
  async verifyLogin(instanceId: number, privateKey: string): Promise<void> {
    const endpoint = await this.deps.endpoint(instanceId);
    const conn = await SshConnection.connect({
      endpoint,
      privateKeys: [privateKey],
      keepaliveIntervalMs: 0,
      keepaliveCountMax: 0,
      readyTimeoutMs: this.deps.options.readyTimeoutMs,
      verifyHostKey: (presented) => this.deps.pins.verify(instanceId, presented, endpoint.hostKey).ok,
    });
    try {
      // A one-off proof, not a health probe: allow as long as a login may take.
      const r = await conn.exec("echo ok", { timeoutMs: this.deps.options.readyTimeoutMs, maxOutput: 1024 });
      if (r.stdout.trim() !== "ok") throw new Error("the test command did not answer");
    } finally {
      conn.close();
    }
  }

  /** Closes the current connection and connects again now (up to `attempts` tries). */
  async reconnect(
    instanceId: number,
    attempts = 3,
  ): Promise<{ status: "ok" | "error"; latency_ms: number; error?: string }> {
    const link = this.#link(instanceId);
    link.loop?.abort();
    link.loop = null;
    link.hostKeyRefused = false;
    const old = link.conn;
    link.conn = null;
    old?.close();
    const started = performance.now();
    let error = "";
    let refused = false;
    for (let i = 0; i < attempts; i++) {
      if (i > 0) {
        await new Promise((r) =>
          setTimeout(
            r,
            this.deps.options.reconnectDelaysMs[Math.min(i - 1, this.deps.options.reconnectDelaysMs.length - 1)],
          )
        );
      }
      try {
        await this.connect(instanceId);
        return { status: "ok", latency_ms: Math.round(performance.now() - started) };
      } catch (e) {
        error = (e as Error).message;
        if (refusedForGood(e)) {
          refused = true;
          break;
        }
      }
    }
    // A refusal retrying cannot change (host key, source address) fails the link; anything else is retried in
    // the background from here, as after any lost connection (connect() made it wanted).
    if (refused) this.#transition(link, "failed", error);
    else this.#startLoop(link, error);
    return { status: "error", latency_ms: Math.round(performance.now() - started), error };
  }

  /** State and tunnel health only (no database read), for summaries over every instance such as /metrics. */
  health(instanceId: number): { state: LinkState; tunnels: TunnelHealth[] } {
    const link = this.#links.get(instanceId);
    return {
      state: link?.state ?? "disconnected",
      tunnels: this.targets.map((t) => link?.tunnels.get(t.name) ?? Link.emptyTunnel(t)),
    };
  }

  /** State, metrics, tunnels and the last ten transitions of one instance. */
  /** The connection's state alone (no database read, unlike `status`): for lists of many instances. */
  state(instanceId: number): LinkState {
    return this.#links.get(instanceId)?.state ?? "disconnected";
  }

  status(instanceId: number) {
    const link = this.#links.get(instanceId);
    return {
      state: link?.state ?? "disconnected",
      metrics: link?.conn
        ? {
          ...link.metrics,
          uptime_ms: Math.max(0, this.deps.clock.now() - Date.parse(link.metrics.connected_at ?? "")) || 0,
        }
        : null,
      tunnels: this.targets.map((t) => link?.tunnels.get(t.name) ?? Link.emptyTunnel(t)),
      recent_events: this.deps.events.list(instanceId, 10, true).map((e) => ({
        from: e.from_state,
        to: e.to_state,
        timestamp: e.at,
        reason: e.details.reason ?? "",
      })),
    };
  }

  /** One command probe on every live connection; a failure closes it, which starts a reconnect. */
  async probeAll(): Promise<void> {
    await Promise.all(this.#live().map((l) => this.#probe(l)));
  }

  /** One end-to-end probe of every named target on every live connection. */
  probeTunnels(): Promise<void> {
    return this.#probeTunnelsOf(this.#live());
  }

  /** The same probe on one instance's live connection only; never connects (nothing when there is none). */
  probeInstanceTunnels(instanceId: number): Promise<void> {
    const link = this.#links.get(instanceId);
    return link?.conn && !link.conn.closed ? this.#probeTunnelsOf([link]) : Promise.resolve();
  }

  async #probeTunnelsOf(links: Link[]): Promise<void> {
    const { tunnelProbeTimeoutMs } = this.deps.options;
    const now = () => new Date(this.deps.clock.now()).toISOString();
    await Promise.all(
      links.flatMap((link) =>
        this.targets.map(async (target) => {
          const conn = link.conn!;
          const result = await probeTunnel(conn, target, tunnelProbeTimeoutMs);
          // A probe that outlives its connection (stopped, replaced, or the pool shut down) reports nothing.
          if (this.#closed || link.conn !== conn) return;
          link.recordTunnel(target, result, now());
          if (!result.ok) {
            this.deps.events.record(link.id, "health_check_failed", {
              layer: "tunnel",
              target: target.name,
              error: result.error,
            });
          }
        })
      ),
    );
  }

  /**
   * Probes one named target until it answers, recording each result in the tunnel health the SSH
   * panel shows; throws the last error after `timeoutMs`.
   */
  async waitForTunnel(instanceId: number, name: string, timeoutMs: number, intervalMs = 250): Promise<void> {
    const target = this.targets.find((t) => t.name === name);
    if (!target) throw new AppError("NOT_FOUND", `No tunnel target named "${name}".`);
    const deadline = performance.now() + timeoutMs;
    let last = "no attempt";
    while (performance.now() < deadline) {
      const conn = await this.connect(instanceId);
      const result = await probeTunnel(conn, target, this.deps.options.tunnelProbeTimeoutMs);
      this.#link(instanceId).recordTunnel(target, result, new Date(this.deps.clock.now()).toISOString());
      if (result.ok) return;
      last = result.error ?? "unknown error";
      await new Promise((r) => setTimeout(r, intervalMs));
    }
    throw new AppError("SSH_TIMEOUT", `The ${name} tunnel did not answer within ${timeoutMs / 1000} s (${last}).`);
  }

  /** Closes every connection and stops all timers. */
  close(): void {
    this.#closed = true;
    for (const t of this.#timers) clearInterval(t);
    for (const id of [...this.#links.keys()]) this.stop(id, "control plane shutting down");
  }

  #link(id: number): Link {
    let link = this.#links.get(id);
    if (!link) this.#links.set(id, link = new Link(id));
    return link;
  }

  #transition(link: Link, to: Link["state"], reason: string): void {
    if (link.state === to) return;
    const from = link.state;
    link.state = to;
    this.deps.events.record(link.id, "state_change", { reason }, { from, to });
  }

  async #dial(link: Link): Promise<SshConnection> {
    const { limiter, events, audit } = this.deps;
    const id = link.id;
    if (link.hostKeyRefused) {
      throw new AppError(
        "SSH_HOST_KEY_MISMATCH",
        `Instance ${id}'s host key does not match the pinned key; reconnect manually after checking it.`,
      );
    }
    const gate = limiter.tryAcquire(id);
    if (!gate.allowed) {
      const seconds = Math.ceil(gate.retryAfterMs / 1000);
      events.record(id, "rate_limited", { reason: gate.reason, retry_after_ms: gate.retryAfterMs });
      audit.record({
        actor: SYSTEM,
        action: "ssh.rate_limited",
        target: `instance:${id}`,
        instanceId: id,
        outcome: "denied",
        details: { reason: gate.reason, retry_after_s: seconds },
      });
      throw rateLimitedError(id, gate);
    }
    if (link.state === "disconnected") this.#transition(link, "connecting", "connect requested");
    try {
      const conn = await this.#handshakes.run(() => this.#open(link));
      limiter.succeeded(id);
      return this.#connected(link, conn);
    } catch (e) {
      limiter.failed(id);
      // An on-demand attempt that failed leaves nothing running: say so instead of staying "connecting".
      if (link.state === "connecting") this.#transition(link, "disconnected", (e as Error).message);
      throw e;
    }
  }

  /** Resolves the endpoint and opens an authenticated connection, translating refusals into AppErrors. */
  async #open(link: Link): Promise<SshConnection> {
    const { events, audit, keys, pins, options } = this.deps;
    const id = link.id;
    let endpoint: SshEndpoint;
    try {
      endpoint = await this.deps.endpoint(id);
    } catch (e) {
      if (e instanceof AppError) throw e;
      throw new AppError("SSH_UNAVAILABLE", `Cannot find instance ${id}'s SSH endpoint: ${(e as Error).message}`);
    }
    const allowList = this.deps.sourceIps(id);
    let expected = "";
    try {
      return await SshConnection.connect({
        endpoint,
        privateKeys: keys.identities(),
        keepaliveIntervalMs: options.keepaliveIntervalMs,
        keepaliveCountMax: options.keepaliveCountMax,
        readyTimeoutMs: options.readyTimeoutMs,
        allowLocalAddress: allowList.length ? (address) => sourceIpAllowed(allowList, address) : undefined,
        verifyHostKey: (presented) => {
          const verdict = pins.verify(id, presented, endpoint.hostKey);
          if (!verdict.ok) expected = verdict.expected;
          return verdict.ok;
        },
      });
    } catch (e) {
      if (e instanceof SourceAddressRefusedError) {
        this.#ipBlocked(link, e.address, allowList);
        throw new AppError("SSH_IP_BLOCKED", `${e.message.replace("the instance's", `instance ${id}'s`)}`);
      }
      if (e instanceof HostKeyMismatchError) {
        link.hostKeyRefused = true;
        const details = {
          presented: fingerprint(e.presented),
          expected: fingerprint(expected),
          host: endpoint.host,
          port: endpoint.port,
        };
        this.#transition(link, "failed", "host key mismatch");
        events.record(id, "host_key_mismatch", details);
        audit.record({
          actor: SYSTEM,
          action: "ssh.host_key_mismatch",
          target: `instance:${id}`,
          instanceId: id,
          outcome: "failure",
          details,
        });
        throw new AppError(
          "SSH_HOST_KEY_MISMATCH",
          `Instance ${id} presented host key ${details.presented}, not the pinned ${details.expected}; connection refused.`,
        );
      }
      throw new AppError(
        "SSH_UNAVAILABLE",
        `Cannot connect to instance ${id} at ${endpoint.host}:${endpoint.port}: ${(e as Error).message}`,
      );
    }
  }

  #ipBlocked(link: Link, address: string, allowList: string[]): void {
    this.deps.events.record(link.id, "ip_blocked", { local_address: address, allowed: allowList });
    this.deps.audit.record({
      actor: SYSTEM,
      action: "ssh.ip_blocked",
      target: `instance:${link.id}`,
      instanceId: link.id,
      outcome: "denied",
      details: { local_address: address },
    });
  }

  #connected(link: Link, conn: SshConnection): SshConnection {
    const { events, audit } = this.deps;
    const id = link.id;
    const endpoint = conn.endpoint;
    const again = link.state === "reconnecting" || link.state === "failed";
    link.conn = conn;
    link.resetMetrics(new Date(this.deps.clock.now()).toISOString());
    this.#transition(link, "connected", again ? "reconnected" : "connected");
    events.record(id, again ? "reconnected" : "connected", { host: endpoint.host, port: endpoint.port });
    audit.record({
      actor: SYSTEM,
      action: again ? "ssh.reconnect" : "ssh.connect",
      target: `instance:${id}`,
      instanceId: id,
      details: { host: endpoint.host, port: endpoint.port },
    });
    conn.onClose((reason) => this.#dropped(link, conn, reason));
    if (!link.wanted) {
      link.conn = null;
      conn.close();
    }
    return conn;
  }

  #dropped(link: Link, conn: SshConnection, reason: string): void {
    if (link.conn !== conn) return;
    link.conn = null;
    this.deps.events.record(link.id, "disconnected", { reason });
    this.deps.audit.record({
      actor: SYSTEM,
      action: "ssh.disconnect",
      target: `instance:${link.id}`,
      instanceId: link.id,
      outcome: "failure",
      details: { reason },
    });
    if (link.wanted && !this.#closed) this.#startLoop(link, reason);
    else this.#transition(link, "disconnected", reason);
  }

  /** One reconnect loop per instance: fast backoff for N attempts, then `failed` and slow retries. */
  #startLoop(link: Link, reason = "connection lost"): void {
    if (link.loop || !link.wanted || link.hostKeyRefused || this.#closed) return;
    const abort = new AbortController();
    link.loop = abort;
    const o = this.deps.options;
    this.#transition(link, "reconnecting", reason);
    this.deps.events.record(link.id, "reconnecting", { reason });
    (async () => {
      let slow = o.slowRetryMs;
      for (let attempt = 1; !abort.signal.aborted && link.wanted; attempt++) {
        let delay = attempt <= o.reconnectAttempts
          ? o.reconnectDelaysMs[Math.min(attempt - 1, o.reconnectDelaysMs.length - 1)]
          : slow;
        if (attempt > o.reconnectAttempts) slow = Math.min(slow * 2, o.slowRetryMaxMs);
        if (!(await sleep(delay, abort.signal))) break;
        try {
          await this.connect(link.id);
          break;
        } catch (e) {
          if (refusedForGood(e)) {
            // The loop ends here: say so instead of showing "reconnecting" with nothing retrying.
            this.#transition(link, "failed", (e as Error).message);
            break;
          }
          if (e instanceof AppError && e.code === "SSH_RATE_LIMITED") delay = Number(e.headers["Retry-After"]) * 1000;
          if (attempt === o.reconnectAttempts) {
            this.#transition(link, "failed", `${attempt} reconnect attempts failed`);
            this.deps.events.record(link.id, "reconnect_failed", { attempts: attempt, error: (e as Error).message });
            this.deps.audit.record({
              actor: SYSTEM,
              action: "ssh.reconnect_failed",
              target: `instance:${link.id}`,
              instanceId: link.id,
              outcome: "failure",
              details: { attempts: attempt },
            });
          }
        }
      }
    })().catch((e) => this.deps.log.error("reconnect loop crashed", { instance: link.id, error: String(e) }))
      .finally(() => {
        if (link.loop === abort) link.loop = null;
      });
  }

  async #probe(link: Link): Promise<void> {
    const conn = link.conn!;
    const started = performance.now();
    const at = new Date(this.deps.clock.now()).toISOString();
    try {
      const r = await conn.exec("echo ping", { timeoutMs: this.deps.options.probeTimeoutMs, maxOutput: 1024 });
      if (r.stdout.trim() !== "ping") {
        throw new Error(`unexpected probe output ${JSON.stringify(r.stdout.slice(0, 40))}`);
      }
      link.recordProbe(true, at, performance.now() - started);
      this.probeLatencies.add(performance.now() - started);
    } catch (e) {
      if (this.#closed || link.conn !== conn) return;
      link.recordProbe(false, at, performance.now() - started);
      this.deps.events.record(link.id, "health_check_failed", { layer: "command", error: (e as Error).message });
      conn.close();
    }
  }
}

/** Waits `ms`; false when aborted first. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => resolve(true), ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve(false);
    }, { once: true });
  });
}
