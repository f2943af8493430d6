import { AuditLog } from "../../core/audit/audit_log.ts";
import { systemClock } from "../../core/clock.ts";
import { Database } from "../../core/db/database.ts";
import { Instances } from "../../core/instances/instances.ts";
import { silentLogger } from "../../core/log.ts";
import type { SshEndpoint } from "../../core/plugins/runtime_backend.ts";
import { SshEvents } from "../../core/ssh/events.ts";
import { HostKeyPins } from "../../core/ssh/host_keys.ts";
import { SshKeyStore } from "../../core/ssh/key_store.ts";
import { sshDefaults, type SshOptions } from "../../core/ssh/options.ts";
import { SshPool } from "../../core/ssh/pool.ts";
import { ConnectRateLimiter, type RateLimitOptions } from "../../core/ssh/rate_limiter.ts";
import type { TunnelTarget } from "../../core/ssh/tunnel_targets.ts";

/**
 * Fast timings so health and reconnection tests finish in seconds, with enough slack that a loaded
 * 2-core machine running tests in parallel does not trip them.
 */
export const FAST: Partial<SshOptions> = {
  keepaliveIntervalMs: 500,
  keepaliveCountMax: 4,
  readyTimeoutMs: 8_000,
  probeIntervalMs: 300,
  probeTimeoutMs: 3_000,
  tunnelProbeIntervalMs: 300,
  tunnelProbeTimeoutMs: 3_000,
  reconnectDelaysMs: [50, 100, 200, 400],
  reconnectAttempts: 10,
  slowRetryMs: 500,
  slowRetryMaxMs: 2_000,
};

export interface PoolFixture {
  /** The temp data folder (database and key files). */
  dir: string;
  pool: SshPool;
  db: Database;
  events: SshEvents;
  audit: AuditLog;
  keys: SshKeyStore;
  pins: HostKeyPins;
  instances: Instances;
  /** Endpoint per instance id; tests point these at harness sshds. */
  endpoints: Map<number, SshEndpoint>;
  close(): Promise<void>;
}

/** An SshPool over a temp database with `count` instances (ids 1..count), wired like createServices does. */
export async function poolFixture(
  opts: { count?: number; ssh?: Partial<SshOptions>; targets?: TunnelTarget[]; limits?: Partial<RateLimitOptions> } =
    {},
): Promise<PoolFixture> {
  const dir = await Deno.makeTempDir({ prefix: "claworc-pool-" });
  const db = new Database(`${dir}/claworc.db`);
  db.migrate();
  const instances = new Instances(db);
  for (let i = 1; i <= (opts.count ?? 1); i++) instances.insert(`bot-${i}`, `Bot ${i}`);
  const keys = await SshKeyStore.open(dir);
  const events = new SshEvents(db, systemClock);
  const audit = new AuditLog(db, systemClock);
  const pins = new HostKeyPins(db);
  const endpoints = new Map<number, SshEndpoint>();
  const pool = new SshPool({
    clock: systemClock,
    keys,
    pins,
    events,
    limiter: new ConnectRateLimiter(systemClock, opts.limits),
    audit,
    log: silentLogger,
    options: { ...sshDefaults, ...FAST, ...opts.ssh },
    endpoint: (id) => {
      const e = endpoints.get(id);
      return e ? Promise.resolve(e) : Promise.reject(new Error(`no endpoint for instance ${id}`));
    },
    sourceIps: (id) => instances.sourceIps(id),
    targets: opts.targets,
  });
  return {
    dir,
    pool,
    db,
    events,
    audit,
    keys,
    pins,
    instances,
    endpoints,
    async close() {
      pool.close();
      db.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Resolves when `check` returns true (polling), or throws after `timeoutMs`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5_000,
  what = "condition",
): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (await check()) return performance.now() - started;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** A TCP echo server on 127.0.0.1 (the stand-in for a tunnel target). */
export function echoServer(): { port: number; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      conn.readable.pipeTo(conn.writable).catch(() => {}).finally(() => conns.delete(conn));
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* already closed */ }
      }
    },
  };
}
