import type { Clock } from "../clock.ts";
import type { LiveBus } from "./live_events.ts";

export type OperationKind = "create" | "clone" | "redeploy" | "resume";
export type StepState = "pending" | "running" | "done" | "failed" | "skipped";

export interface OperationStep {
  name: string;
  label: string;
  state: StepState;
  started_at: string | null;
  duration_ms: number | null;
  error: string | null;
}

/** A long piece of work on one instance, step by step, as the dashboard shows it. */
export interface Operation {
  id: string;
  instance_id: number;
  kind: OperationKind;
  state: "running" | "succeeded" | "failed";
  steps: OperationStep[];
  started_at: string;
  finished_at: string | null;
  error: string | null;
}

/** Every step an instance can go through to become ready, in order. */
export const READY_STEPS = {
  volumes: "Create volumes",
  container: "Create container",
  start: "Start container",
  sshd: "sshd answering",
  ssh: "SSH connected",
  tunnels: "Desktop tunnel healthy",
  gateway: "Agent gateway ready",
} as const;
export type StepName = keyof typeof READY_STEPS;

/** A running operation: wraps each step, publishing every change. */
export class OperationRun {
  constructor(readonly op: Operation, private readonly publish: () => void, private readonly clock: Clock) {}

  /** Runs one step; a throw marks it (and the operation) failed and is rethrown. */
  async step<T>(name: StepName, work: () => Promise<T>): Promise<T> {
    const step = this.op.steps.find((s) => s.name === name);
    if (!step) throw new Error(`operation ${this.op.kind} has no step ${name}`);
    const started = performance.now();
    step.state = "running";
    step.started_at = new Date(this.clock.now()).toISOString();
    this.publish();
    try {
      const result = await work();
      step.state = "done";
      return result;
    } catch (e) {
      step.state = "failed";
      step.error = (e as Error).message;
      throw e;
    } finally {
      step.duration_ms = Math.round(performance.now() - started);
      this.publish();
    }
  }

  succeed(): void {
    this.#finish("succeeded", null);
  }

  fail(error: string): void {
    for (const s of this.op.steps) if (s.state === "pending") s.state = "skipped";
    this.#finish("failed", error);
  }

  #finish(state: Operation["state"], error: string | null): void {
    this.op.state = state;
    this.op.error = error;
    this.op.finished_at = new Date(this.clock.now()).toISOString();
    this.publish();
  }
}

/** The latest operation of each instance (kept after it ends, so a late viewer sees the outcome). */
export class Operations {
  #latest = new Map<number, Operation>();

  constructor(private readonly bus: LiveBus, private readonly clock: Clock) {}

  begin(instanceId: number, kind: OperationKind, steps: StepName[]): OperationRun {
    const op: Operation = {
      id: crypto.randomUUID(),
      instance_id: instanceId,
      kind,
      state: "running",
      steps: steps.map((name) => ({
        name,
        label: READY_STEPS[name],
        state: "pending",
        started_at: null,
        duration_ms: null,
        error: null,
      })),
      started_at: new Date(this.clock.now()).toISOString(),
      finished_at: null,
      error: null,
    };
    this.#latest.set(instanceId, op);
    const publish = () => this.bus.publish({ type: "operation", operation: structuredClone(op) });
    publish();
    return new OperationRun(op, publish, this.clock);
  }

  latest(instanceId: number): Operation | undefined {
    const op = this.#latest.get(instanceId);
    return op && structuredClone(op);
  }

  forget(instanceId: number): void {
    this.#latest.delete(instanceId);
  }
}
