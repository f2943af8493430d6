import { useEffect } from "preact/hooks";

/** A status change of an instance, as `GET /api/v1/events` pushes it. */
export interface LiveInstance {
  id: number;
  name: string;
  display_name: string;
  status: string;
  status_reason: string;
  cpu_limit: string;
  memory_limit: string;
}

export interface LiveStep {
  name: string;
  label: string;
  state: "pending" | "running" | "done" | "failed" | "skipped";
  duration_ms: number | null;
  error: string | null;
}

/** A long operation (create, clone, redeploy, resume) with its steps. */
export interface LiveOperation {
  id: string;
  instance_id: number;
  kind: string;
  state: "running" | "succeeded" | "failed";
  steps: LiveStep[];
  error: string | null;
}

/** Something happened to an instance's SSH connection. */
export interface LiveSsh {
  instance_id: number;
  event: string;
  state: string | null;
}

export interface LiveHandlers {
  /**
   * The stream is (again) connected. Events sent while it was not (before the island hydrated, during a
   * network break, or after the server dropped a reader that fell behind) are not replayed: re-read here.
   */
  ready?(): void;
  instance?(i: LiveInstance): void;
  ssh?(e: LiveSsh): void;
  operation?(op: LiveOperation): void;
  deleted?(id: number): void;
}

/**
 * Follows the server's event stream while the island is mounted (the browser reconnects it by
 * itself after a network break). Handlers get parsed events; malformed ones are ignored.
 */
export function useLiveEvents(handlers: LiveHandlers, deps: unknown[] = []): void {
  useEffect(() => {
    const source = new EventSource("/api/v1/events");
    const on = <T>(type: string, handle?: (v: T) => void) =>
      source.addEventListener(type, (e) => {
        try {
          handle?.(JSON.parse((e as MessageEvent).data));
        } catch { /* ignore a malformed event */ }
      });
    on<unknown>("ready", () => handlers.ready?.());
    on<LiveInstance>("instance", handlers.instance);
    on<LiveOperation>("operation", handlers.operation);
    on<LiveSsh>("ssh", handlers.ssh);
    on<{ id: number }>("instance_deleted", (v) => handlers.deleted?.(v.id));
    return () => source.close();
  }, deps);
}
