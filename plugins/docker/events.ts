// @ts-types="npm:@types/dockerode@4.0.2"
import type Docker from "dockerode";

/** Container actions that can change an instance's status. */
const RELEVANT = new Set([
  "create",
  "start",
  "restart",
  "stop",
  "die",
  "kill",
  "oom",
  "pause",
  "unpause",
  "destroy",
  "remove",
]);
const MAX_BACKOFF_MS = 30_000;

export interface EngineWatch {
  isOurs(labels: Record<string, string>): boolean;
  nameOf(labels: Record<string, string>): string;
  /** Called per relevant event (the handler reads the current state itself: events can arrive late). */
  onEvent(name: string): Promise<void>;
  /** The stream was re-established after a break: events may have been missed. */
  onResync(): void;
}

interface EngineEvent {
  Type?: string;
  Action?: string;
  status?: string;
  Actor?: { Attributes?: Record<string, string> };
}

/**
 * Follows the engine's event stream (`GET /events`) for our containers and reconnects with backoff
 * when it breaks (engine restarted), asking for a resync. Returns a function that stops watching.
 */
export function watchEngineEvents(docker: Docker, w: EngineWatch): () => void {
  let stopped = false;
  let current: NodeJS.ReadableStream | null = null;
  let backoff = 1000;

  const follow = async (resync: boolean) => {
    if (stopped) return;
    try {
      const stream = await docker.getEvents({ filters: { type: ["container"] } });
      if (stopped) return (stream as unknown as { destroy(): void }).destroy();
      current = stream;
      backoff = 1000;
      if (resync) w.onResync();
      let pending = "";
      stream.on("data", (chunk: Uint8Array) => {
        pending += new TextDecoder().decode(chunk);
        const lines = pending.split("\n");
        pending = lines.pop() ?? "";
        for (const line of lines) handle(line);
      });
      stream.on("error", () => {});
      stream.on("close", () => retry());
      stream.on("end", () => retry());
    } catch {
      retry();
    }
  };

  const handle = (line: string) => {
    if (!line.trim()) return;
    let event: EngineEvent;
    try {
      event = JSON.parse(line);
    } catch {
      return;
    }
    const action = (event.Action ?? event.status ?? "").split(":")[0];
    const labels = event.Actor?.Attributes ?? {};
    if (event.Type !== "container" || !RELEVANT.has(action) || !w.isOurs(labels)) return;
    w.onEvent(w.nameOf(labels)).catch(() => {});
  };

  let retrying = false;
  const retry = () => {
    if (stopped || retrying) return;
    retrying = true;
    current = null;
    setTimeout(() => {
      retrying = false;
      void follow(true);
    }, backoff);
    backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
  };

  void follow(false);
  return () => {
    stopped = true;
    (current as unknown as { destroy?(): void } | null)?.destroy?.();
  };
}
