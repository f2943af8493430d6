import type { EventBus } from "../events/bus.ts";
import type { InstanceSummary } from "./instances.ts";
import type { Operation } from "./operations.ts";

/** What the dashboard is pushed over `GET /api/v1/events`. */
export type LiveEvent =
  | { type: "instance"; instance: InstanceSummary }
  | { type: "instance_deleted"; id: number }
  | { type: "operation"; operation: Operation }
  /** Something happened to an instance's SSH connection (state change, probe failure, ...). */
  | { type: "ssh"; instance_id: number; event: string; state: string | null };

export type LiveBus = EventBus<LiveEvent>;

/** The instance a live event is about (for per-user filtering). */
export function instanceIdOf(event: LiveEvent): number {
  if (event.type === "instance") return event.instance.id;
  if (event.type === "operation") return event.operation.instance_id;
  if (event.type === "ssh") return event.instance_id;
  return event.id;
}
