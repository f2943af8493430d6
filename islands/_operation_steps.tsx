import type { LiveOperation } from "./_live.ts";

const MARK: Record<string, string> = { pending: "○", running: "◐", done: "●", failed: "✕", skipped: "–" };
const KIND: Record<string, string> = {
  create: "Creating",
  clone: "Cloning",
  redeploy: "Redeploying",
  resume: "Resuming creation",
};

/** The steps of an operation as a checklist, with each step's time and a failure's cause. */
export function OperationSteps({ op }: { op: LiveOperation }) {
  const done = op.steps.filter((s) => s.state === "done").length;
  return (
    <div class="operation" data-testid="operation" data-state={op.state}>
      <p>
        <strong>{KIND[op.kind] ?? op.kind}</strong>{" "}
        {op.state === "running" && (
          <span class="muted">step {Math.min(done + 1, op.steps.length)} of {op.steps.length}</span>
        )}
        {op.state === "succeeded" && <span class="badge success">ready</span>}
        {op.state === "failed" && <span class="badge failure">failed</span>}
      </p>
      <ol class="steps">
        {op.steps.map((s) => (
          <li key={s.name} class={`step step-${s.state}`} data-testid={`step-${s.name}`} data-state={s.state}>
            <span aria-hidden="true">{MARK[s.state]}</span> {s.label}
            {s.duration_ms !== null && s.state !== "running" && (
              <span class="muted">· {(s.duration_ms / 1000).toFixed(1)} s</span>
            )}
            {s.error && <span class="step-error" role="alert">{s.error}</span>}
          </li>
        ))}
      </ol>
    </div>
  );
}
