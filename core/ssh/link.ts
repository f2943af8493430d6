import type { SshConnection } from "./connection.ts";
import type { LinkState } from "./events.ts";
import type { TunnelTarget } from "./tunnel_targets.ts";

/** Health of one named tunnel target, as the API reports it. */
export interface TunnelHealth {
  label: string;
  remote: string;
  status: "unknown" | "healthy" | "error";
  last_check: string | null;
  successful_checks: number;
  failed_checks: number;
  last_latency_ms: number | null;
  error: string | null;
}

/** Connection metrics as the API reports them. */
export interface LinkMetrics {
  connected_at: string | null;
  last_health_check: string | null;
  successful_checks: number;
  failed_checks: number;
  last_latency_ms: number | null;
}

/** The pool's record of one instance: state, current connection, reconnect loop and metrics. */
export class Link {
  state: LinkState = "disconnected";
  conn: SshConnection | null = null;
  connecting: Promise<SshConnection> | null = null;
  /** The instance should be connected (false once stopped or deleted: no reconnecting). */
  wanted = false;
  /** Set after a host-key mismatch: automatic reconnects stop until someone reconnects by hand. */
  hostKeyRefused = false;
  loop: AbortController | null = null;
  metrics: LinkMetrics = {
    connected_at: null,
    last_health_check: null,
    successful_checks: 0,
    failed_checks: 0,
    last_latency_ms: null,
  };
  tunnels = new Map<string, TunnelHealth>();
  /** Monotonic time (performance.now) of the connection and of its last good command probe. */
  connectedSince = 0;
  lastGoodProbe = 0;

  constructor(readonly id: number) {}

  static emptyTunnel(t: TunnelTarget): TunnelHealth {
    return {
      label: t.name,
      remote: `${t.host}:${t.port}`,
      status: "unknown",
      last_check: null,
      successful_checks: 0,
      failed_checks: 0,
      last_latency_ms: null,
      error: null,
    };
  }

  resetMetrics(connectedAt: string): void {
    this.connectedSince = performance.now();
    this.lastGoodProbe = 0;
    this.metrics = {
      connected_at: connectedAt,
      last_health_check: null,
      successful_checks: 0,
      failed_checks: 0,
      last_latency_ms: null,
    };
  }

  recordProbe(ok: boolean, at: string, latencyMs: number): void {
    this.metrics.last_health_check = at;
    this.metrics.last_latency_ms = Math.round(latencyMs);
    if (ok) {
      this.metrics.successful_checks++;
      this.lastGoodProbe = performance.now();
    } else this.metrics.failed_checks++;
  }

  recordTunnel(t: TunnelTarget, result: { ok: boolean; latencyMs: number; error?: string }, at: string): void {
    const h = this.tunnels.get(t.name) ?? Link.emptyTunnel(t);
    h.status = result.ok ? "healthy" : "error";
    h.last_check = at;
    h.last_latency_ms = Math.round(result.latencyMs);
    h.error = result.error ?? null;
    if (result.ok) h.successful_checks++;
    else h.failed_checks++;
    this.tunnels.set(t.name, h);
  }
}
