import type { Logger } from "../log.ts";
import type { RuntimeBackend, RuntimeInstance, RuntimeState } from "../plugins/runtime_backend.ts";
import type { SshPool } from "../ssh/pool.ts";
import type { Instances, InstanceSummary } from "./instances.ts";

/** Reasons starting with this mark a failed creation: the engine's state is not adopted for it. */
export const CREATION_FAILED = "Creation failed";

interface Deps {
  instances: Instances;
  ssh: SshPool;
  log: Logger;
}

/**
 * Applies a state the engine reported to a row and the SSH pool (the caller skips instances an
 * action owns). Rows still being created, or whose creation failed, keep their own status.
 */
export function adoptEngineState(d: Deps, inst: InstanceSummary, state: RuntimeState): void {
  if (inst.status === "creating" || inst.status_reason.startsWith(CREATION_FAILED)) return;
  switch (state.status) {
    case "running":
      if (inst.status !== "running") d.instances.setStatus(inst.id, "running");
      d.ssh.start(inst.id);
      return;
    case "restarting":
      d.instances.setStatus(inst.id, "restarting", state.reason ?? "");
      return;
    case "stopped":
      d.ssh.stop(inst.id, "container stopped");
      d.instances.setStatus(inst.id, "stopped", state.reason ?? "");
      return;
    case "error":
      d.ssh.stop(inst.id, state.reason ?? "container failed");
      d.instances.setStatus(inst.id, "error", state.reason ?? "The container failed.");
      return;
    case "missing":
      d.ssh.stop(inst.id, "container missing");
      d.instances.setStatus(
        inst.id,
        "error",
        "The container is missing from the engine (removed outside Claworc?). Its volumes were kept: redeploy to recreate it.",
      );
      return;
  }
}

/**
 * Matches rows and the engine's containers by label. Adopts the engine's state; hands creations the
 * control plane was killed in the middle of to `resume` (or fails them when no container was made);
 * marks rows whose container vanished (volumes are kept). Never deletes data. Returns the orphans:
 * containers labelled for Claworc that no row owns (reported, never touched).
 */
export async function reconcileWithEngine(
  d: Deps,
  backend: RuntimeBackend,
  hooks: { busy(id: number): boolean; resume(inst: InstanceSummary): void },
): Promise<RuntimeInstance[]> {
  const engine = new Map((await backend.list()).map((c) => [c.name, c]));
  const rows = d.instances.all();
  for (const inst of rows) {
    if (hooks.busy(inst.id)) continue;
    const found = engine.get(inst.name);
    if (inst.status !== "creating") {
      adoptEngineState(d, inst, found?.state ?? { status: "missing" });
    } else if (found) {
      d.log.info("resuming an interrupted creation", { instance: inst.name });
      hooks.resume(inst);
    } else {
      d.instances.setStatus(
        inst.id,
        "error",
        `${CREATION_FAILED}: the control plane stopped before the container existed. Delete this instance and create it again.`,
      );
      await backend.remove(inst.name).catch(() => {});
    }
  }
  const known = new Set(rows.map((r) => r.name));
  const orphans = [...engine.values()].filter((c) => !known.has(c.name));
  for (const o of orphans) {
    d.log.warn("a container labelled for Claworc has no instance (left untouched)", { container: o.name });
  }
  return orphans;
}
