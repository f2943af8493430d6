import { useEffect, useRef, useState } from "preact/hooks";
import { api, ApiError, errorText } from "../../../islands/_api.ts";
import type { Rollout, RolloutResultState } from "./_types.ts";

/** How often a running rollout is read again. */
const POLL_MS = 1_000;
/** After a failed read (network, server restart), the next try waits this long. */
const RETRY_MS = 3_000;

const STATE_LABEL: Record<RolloutResultState, string> = {
  queued: "queued",
  applying: "applying…",
  applied: "applied",
  unchanged: "unchanged",
  waiting: "waiting: applies at its next start",
  failed: "failed",
};

const STATE_BADGE: Record<RolloutResultState, string> = {
  queued: "badge",
  applying: "badge user",
  applied: "badge success",
  unchanged: "badge",
  waiting: "badge denied",
  failed: "badge failure",
};

/**
 * Follows a rollout: `follow(rollout)` (as a save answered it) reads it again every second until it
 * is done, then calls `onDone` once. A read that fails is retried, except when the rollout is gone.
 */
export function useRollout(onDone?: (r: Rollout) => void) {
  const [rollout, setRollout] = useState<Rollout | null>(null);
  const [error, setError] = useState("");
  const [attempt, setAttempt] = useState(0);
  const doneRef = useRef(onDone);
  doneRef.current = onDone;
  const reported = useRef<string | null>(null);

  useEffect(() => {
    if (!rollout) return;
    if (rollout.state === "done") {
      if (reported.current !== rollout.id) {
        reported.current = rollout.id;
        doneRef.current?.(rollout);
      }
      return;
    }
    let stopped = false;
    const timer = setTimeout(async () => {
      try {
        const next = await api<Rollout>("GET", `/api/v1/models/rollouts/${encodeURIComponent(rollout.id)}`);
        if (stopped) return;
        setError("");
        setRollout(next);
      } catch (e) {
        if (stopped) return;
        if (e instanceof ApiError && e.status === 404) {
          setError(`${errorText(e)} Reload the page to see where each instance stands.`);
          return;
        }
        setError(`Could not read the rollout's progress: ${errorText(e)} Retrying…`);
        setAttempt((n) => n + 1);
      }
    }, error ? RETRY_MS : POLL_MS);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
    // `attempt` re-arms the timer after a failed read (the rollout itself did not change).
  }, [rollout, attempt]);

  function follow(r: Rollout) {
    reported.current = null;
    setError("");
    setRollout(r);
  }

  return { rollout, error, follow };
}

/** A rollout's progress: one row per instance with its state, time and a failure's error. */
export function RolloutProgress({ rollout, error }: { rollout: Rollout; error: string }) {
  const { results } = rollout;
  const finished = results.filter((r) => r.state !== "queued" && r.state !== "applying").length;
  const failed = results.filter((r) => r.state === "failed").length;
  const running = rollout.state === "running";
  return (
    <section
      class="card stack"
      aria-labelledby={`rollout-${rollout.id}`}
      data-testid="rollout"
      data-state={rollout.state}
    >
      <h2 id={`rollout-${rollout.id}`}>
        Rollout{" "}
        <span aria-live="polite">
          {running
            ? <span class="badge user" data-testid="rollout-state">in progress</span>
            : failed
            ? <span class="badge failure" data-testid="rollout-state">done, {failed} failed</span>
            : <span class="badge success" data-testid="rollout-state">done</span>}
        </span>
      </h2>
      <p class="muted" data-testid="rollout-summary">
        {rollout.reason}: {results.length === 0
          ? "no instance to update yet; new instances start with this configuration."
          : `${finished} of ${results.length} instance${results.length === 1 ? "" : "s"} done.`}
        {running && results.length > 0 && " Applying restarts each agent's gateway, which takes a while."}
      </p>
      {results.length > 0 && (
        <div class="table-wrap">
          <table class="data" data-testid="rollout-table">
            <thead>
              <tr>
                <th scope="col">Instance</th>
                <th scope="col">State</th>
                <th scope="col">Time</th>
                <th scope="col">Error</th>
              </tr>
            </thead>
            <tbody>
              {results.map((r) => (
                <tr key={r.instance_id} data-testid={`rollout-row-${r.instance_id}`} data-state={r.state}>
                  <th scope="row">
                    <a href={`/instances/${r.instance_id}/models`}>{r.name}</a>
                  </th>
                  <td>
                    <span class={STATE_BADGE[r.state] ?? "badge"} data-testid="rollout-result">
                      {STATE_LABEL[r.state] ?? r.state}
                    </span>
                  </td>
                  <td class="nowrap">
                    {r.duration_ms === null ? <span class="muted">—</span> : `${(r.duration_ms / 1000).toFixed(1)} s`}
                  </td>
                  <td>
                    {r.error
                      ? <code class="details" data-testid="rollout-error">{r.error}</code>
                      : <span class="muted">—</span>}
                    {r.gateway_log && (
                      <details data-testid="rollout-gateway-log">
                        <summary>The agent gateway's log</summary>
                        <pre class="details">{r.gateway_log}</pre>
                      </details>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {error && <p role="alert" data-testid="rollout-poll-error">{error}</p>}
    </section>
  );
}
