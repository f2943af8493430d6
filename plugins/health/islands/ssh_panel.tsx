import { useEffect, useRef, useState } from "preact/hooks";
import { api, errorText, useHydrated } from "../../../islands/_api.ts";
import { useLiveEvents } from "../../../islands/_live.ts";
import { utcTime } from "../../../islands/_time.ts";

import type { LinkMetrics, TunnelHealth } from "../../../core/ssh/link.ts";
import type { LinkState } from "../../../core/ssh/events.ts";

// Type-only imports from core: the server's shapes, erased from the bundle.
export type SshState = LinkState;
export type SshMetrics = LinkMetrics & { uptime_ms: number };
export type TunnelRow = TunnelHealth;

/** `GET /api/v1/instances/{id}/ssh-status`. */
export interface Status {
  state: SshState;
  /** Null while there is no live connection. */
  metrics: SshMetrics | null;
  tunnels: TunnelRow[];
  recent_events: { from: string | null; to: string | null; timestamp: string; reason: unknown }[];
}

/** One entry of `GET /api/v1/instances/{id}/ssh-events` (oldest first, as the API sends them). */
export interface EventRow {
  type: string;
  timestamp: string;
  from: string | null;
  to: string | null;
  details: Record<string, unknown>;
}

export interface SshPanelProps {
  instanceId: number;
  initial: Status;
  events: EventRow[];
  /** Shows the Test connection and Reconnect buttons. */
  canManage: boolean;
}

/** How often status and events are re-read while the page is visible. */
/** Changes arrive pushed; this slower refresh only keeps the metrics (uptime, bytes) current. */
const REFRESH_MS = 15_000;
/** How many events the list shows (the newest ones). */
const EVENT_LIMIT = 50;

/** An action's outcome, shown under the buttons. */
type Outcome = { ok: boolean; text: string } | null;

/** A duration as its two largest units: `45s`, `12m 5s`, `3h 20m`, `2d 4h`. */
export function humanDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(total / 86_400);
  const h = Math.floor((total % 86_400) / 3_600);
  const m = Math.floor((total % 3_600) / 60);
  const sec = total % 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${sec}s`;
  return `${sec}s`;
}

/** `text` ended with a full stop, unless it already ends with punctuation (the server's reasons often do). */
export function sentence(text: string): string {
  return /[.!?…]$/.test(text) ? text : `${text}.`;
}

/** Why an action failed: "Test failed after 12 ms: reason." (no time when it was refused before trying). */
export function failureText(action: string, latencyMs: number, reason: string): string {
  return sentence(`${action} failed${latencyMs > 0 ? ` after ${latencyMs} ms` : ""}: ${reason}`);
}

/** `key=value, key=value`; strings are shown bare, anything else as JSON. */
function compactDetails(details: Record<string, unknown> | null | undefined): string {
  if (!details || typeof details !== "object") return "";
  return Object.entries(details)
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v) ?? "null"}`)
    .join(", ");
}

const STATE_LABEL: Record<SshState, string> = {
  disconnected: "disconnected",
  connecting: "connecting",
  connected: "connected",
  reconnecting: "reconnecting",
  failed: "failed",
};

/** Badge colour of an event type: good news, bad news, or neither. */
function eventTone(type: string): "good" | "bad" | "plain" {
  if (type === "connected" || type === "reconnected" || type === "key_uploaded") return "good";
  if (
    type === "reconnect_failed" || type === "health_check_failed" || type === "host_key_mismatch" ||
    type === "rate_limited" || type === "ip_blocked" || type === "disconnected"
  ) return "bad";
  return "plain";
}

function Time({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span class="muted">—</span>;
  return <time dateTime={iso}>{utcTime(iso)}</time>;
}

function ms(n: number | null | undefined) {
  return n === null || n === undefined ? <span class="muted">—</span> : <>{n} ms</>;
}

/** SSH connection of one instance: state, metrics, tunnels, history, and test / reconnect buttons. */
export default function SshPanel({ instanceId, initial, events: initialEvents, canManage }: SshPanelProps) {
  const ready = useHydrated();
  const [status, setStatus] = useState<Status>(initial);
  const [events, setEvents] = useState<EventRow[]>(initialEvents);
  const [busy, setBusy] = useState<"test" | "reconnect" | null>(null);
  const [testResult, setTestResult] = useState<Outcome>(null);
  const [reconnectResult, setReconnectResult] = useState<Outcome>(null);
  const [refreshError, setRefreshError] = useState("");
  /** The newest refresh wins: answers to older ones are dropped. */
  const ticket = useRef(0);
  const inFlight = useRef(false);
  const base = `/api/v1/instances/${instanceId}`;

  async function refresh(): Promise<void> {
    const mine = ++ticket.current;
    inFlight.current = true;
    try {
      const [st, ev] = await Promise.all([
        api<Status>("GET", `${base}/ssh-status`),
        api<{ events: EventRow[] }>("GET", `${base}/ssh-events`),
      ]);
      if (mine !== ticket.current) return;
      setStatus(st);
      setEvents(Array.isArray(ev?.events) ? ev.events : []);
      setRefreshError("");
    } catch (e) {
      if (mine === ticket.current) setRefreshError(errorText(e));
    } finally {
      if (mine === ticket.current) inFlight.current = false;
    }
  }

  // Every SSH event of this instance (pushed by the server) refreshes the panel, at most every 250 ms.
  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);
  useLiveEvents({
    ssh: (e) => {
      if (e.instance_id !== instanceId || pending.current) return;
      pending.current = setTimeout(() => {
        pending.current = null;
        void refresh();
      }, 250);
    },
  }, [instanceId]);

  useEffect(() => {
    const tick = () => {
      if (document.visibilityState === "visible" && !inFlight.current) void refresh();
    };
    const timer = setInterval(tick, REFRESH_MS);
    // Coming back to the tab shows fresh data at once.
    const onVisibility = () => {
      if (document.visibilityState === "visible") tick();
    };
    document.addEventListener("visibilitychange", onVisibility);
    return () => {
      clearInterval(timer);
      document.removeEventListener("visibilitychange", onVisibility);
      ticket.current++;
    };
  }, [instanceId]);

  async function runTest(): Promise<void> {
    if (busy) return;
    setBusy("test");
    setTestResult(null);
    try {
      const r = await api<{ status: "ok" | "error"; output: string; latency_ms: number; error: string }>(
        "GET",
        `${base}/ssh-test`,
      );
      if (r.status === "ok") {
        setTestResult({
          ok: true,
          text: `Connection works (${r.latency_ms} ms)${r.output ? `; the instance answered “${r.output}”` : ""}.`,
        });
      } else {
        setTestResult({
          ok: false,
          text: failureText(
            "Test",
            r.latency_ms,
            `${r.error || "the test command did not succeed"}${r.output ? ` (output: “${r.output}”)` : ""}`,
          ),
        });
      }
    } catch (e) {
      setTestResult({ ok: false, text: sentence(`Test failed: ${errorText(e)}`) });
    }
    await refresh();
    setBusy(null);
  }

  async function runReconnect(): Promise<void> {
    if (busy) return;
    setBusy("reconnect");
    setReconnectResult(null);
    try {
      const r = await api<{ status: "ok" | "error"; latency_ms: number; error?: string }>(
        "POST",
        `${base}/ssh-reconnect`,
      );
      setReconnectResult(
        r.status === "ok"
          ? { ok: true, text: `Reconnected in ${r.latency_ms} ms.` }
          : { ok: false, text: failureText("Reconnect", r.latency_ms, r.error || "no reason given") },
      );
    } catch (e) {
      setReconnectResult({ ok: false, text: sentence(`Reconnect failed: ${errorText(e)}`) });
    }
    await refresh();
    setBusy(null);
  }

  const { state, metrics, tunnels } = status;
  const shown = events.slice(-EVENT_LIMIT).reverse();
  const disabled = !ready || busy !== null;

  return (
    <div class="stack ssh-panel">
      <section class="card stack" aria-labelledby="ssh-heading">
        <div class="row between wrap card-head">
          <h2 id="ssh-heading">
            SSH connection{" "}
            <span aria-live="polite">
              <span class={`badge ssh-${state}`} data-testid="ssh-state">{STATE_LABEL[state] ?? state}</span>
            </span>
          </h2>
          {canManage && (
            <div class="row">
              <button
                type="button"
                disabled={disabled}
                aria-busy={busy === "test" ? "true" : undefined}
                onClick={runTest}
                data-testid="ssh-test-button"
              >
                {busy === "test" ? "Testing…" : "Test connection"}
              </button>
              <button
                type="button"
                disabled={disabled}
                aria-busy={busy === "reconnect" ? "true" : undefined}
                onClick={runReconnect}
                data-testid="ssh-reconnect-button"
              >
                {busy === "reconnect" ? "Reconnecting…" : "Reconnect"}
              </button>
            </div>
          )}
        </div>

        {testResult && <p role={testResult.ok ? "status" : "alert"} data-testid="ssh-test">{testResult.text}</p>}
        {reconnectResult && (
          <p role={reconnectResult.ok ? "status" : "alert"} data-testid="ssh-reconnect">{reconnectResult.text}</p>
        )}

        {metrics
          ? (
            <dl class="ssh-metrics" data-testid="ssh-metrics">
              <div>
                <dt>Connected since</dt>
                <dd>
                  <Time iso={metrics.connected_at} />
                </dd>
              </div>
              <div>
                <dt>Uptime</dt>
                <dd data-testid="ssh-uptime">{humanDuration(metrics.uptime_ms)}</dd>
              </div>
              <div>
                <dt>Last health check</dt>
                <dd>
                  <Time iso={metrics.last_health_check} />
                </dd>
              </div>
              <div>
                <dt>Checks passed / failed</dt>
                <dd data-testid="ssh-checks">
                  {metrics.successful_checks} / {metrics.failed_checks}
                </dd>
              </div>
              <div>
                <dt>Latency</dt>
                <dd>{ms(metrics.last_latency_ms)}</dd>
              </div>
            </dl>
          )
          : (
            <p class="muted" data-testid="ssh-no-metrics">
              Not connected right now.{canManage && " Test connection opens a connection."}
            </p>
          )}

        {refreshError && (
          <p class="hint" aria-live="polite" data-testid="ssh-refresh-error">
            Could not refresh: {refreshError} Retrying every {REFRESH_MS / 1000} s.
          </p>
        )}
      </section>

      <section class="stack" aria-labelledby="tunnels-heading">
        <h2 id="tunnels-heading">Tunnels</h2>
        {tunnels.length === 0 ? <p class="empty">No tunnel targets.</p> : (
          <div class="table-wrap">
            <table class="data" data-testid="tunnels-table">
              <thead>
                <tr>
                  <th scope="col">Tunnel</th>
                  <th scope="col">Remote</th>
                  <th scope="col">Status</th>
                  <th scope="col">Last check</th>
                  <th scope="col">Passed / failed</th>
                  <th scope="col">Latency</th>
                  <th scope="col">Error</th>
                </tr>
              </thead>
              <tbody>
                {tunnels.map((t) => (
                  <tr key={t.label} data-testid={`tunnel-row-${t.label}`}>
                    <th scope="row">{t.label}</th>
                    <td class="mono">{t.remote}</td>
                    <td>
                      <span class={`badge tunnel-${t.status}`}>{t.status}</span>
                    </td>
                    <td class="nowrap">
                      <Time iso={t.last_check} />
                    </td>
                    <td>{t.successful_checks} / {t.failed_checks}</td>
                    <td class="nowrap">{ms(t.last_latency_ms)}</td>
                    <td>{t.error ? <code class="details">{t.error}</code> : <span class="muted">—</span>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section class="stack" aria-labelledby="ssh-events-heading">
        <h2 id="ssh-events-heading">
          Events <span class="muted">(newest first)</span>
        </h2>
        {shown.length === 0
          ? <p class="empty" data-testid="ssh-no-events">No SSH events yet.</p>
          : (
            <ol class="ssh-events" data-testid="ssh-events">
              {shown.map((e, i) => {
                const details = compactDetails(e.details);
                return (
                  <li key={`${events.length - i}-${e.timestamp}`} data-testid="ssh-event" data-type={e.type}>
                    <time dateTime={e.timestamp} class="nowrap">{utcTime(e.timestamp)}</time>
                    <span class={`badge event-${eventTone(e.type)}`}>{e.type}</span>
                    {(e.from || e.to) && <span class="transition">{e.from ?? "?"} → {e.to ?? "?"}</span>}
                    {details && <code class="details">{details}</code>}
                  </li>
                );
              })}
            </ol>
          )}
      </section>
    </div>
  );
}
