import { streamSSE } from "hono/streaming";
import type { Router } from "../../core/http/router.ts";
import { readSessionCookie } from "../../core/http/session_cookie.ts";
import { instanceIdOf, type LiveEvent } from "../../core/instances/live_events.ts";
import type { CoreServices } from "../../core/services.ts";

/** How often an idle stream gets a comment line (keeps proxies from closing it) and the session is re-checked. */
export const HEARTBEAT_MS = 20_000;
/** Events buffered for a slow reader before its stream is closed (it reconnects and re-reads the list). */
const MAX_QUEUED = 500;

/**
 * `GET /api/v1/events`: instance status and operation progress pushed as Server-Sent Events, each
 * filtered to what the signed-in user may see. The stream ends when the session does.
 */
export function eventRoutes(api: Router, s: CoreServices): void {
  api.add({
    method: "GET",
    path: "/events",
    permission: "authenticated",
    kind: "stream",
    summary: "Live instance status and operation progress (text/event-stream)",
    tags: ["instances"],
  }, (c, { user }) => {
    const token = readSessionCookie(c) ?? "";
    return streamSSE(c, async (stream) => {
      const queue: LiveEvent[] = [];
      let wake: (() => void) | null = null;
      let overflow = false;
      // Deleted rows cannot be checked any more: users hear of deletions only of instances they saw.
      const seen = new Set(s.instances.listFor(user).map((i) => i.id));
      const unsubscribe = s.live.subscribe((event) => {
        const id = instanceIdOf(event);
        if (event.type === "instance_deleted" ? !seen.has(id) : !s.instances.visibleTo(user, id)) return;
        seen.add(id);
        if (queue.length >= MAX_QUEUED) overflow = true;
        else queue.push(event);
        wake?.();
      });
      stream.onAbort(() => {
        unsubscribe();
        wake?.();
      });
      const stopping = s.shutdown.signal;
      const onStop = () => wake?.();
      stopping.addEventListener("abort", onStop, { once: true });
      const heartbeat = setInterval(() => wake?.(), HEARTBEAT_MS);
      try {
        await stream.writeSSE({ event: "ready", data: JSON.stringify({ user: user.username }) });
        let lastBeat = Date.now();
        while (!stream.aborted && !stream.closed && !overflow && !stopping.aborted) {
          if (!queue.length) await new Promise<void>((r) => wake = r);
          wake = null;
          if (Date.now() - lastBeat >= HEARTBEAT_MS) {
            if (!s.sessions.resolve(token, false)) break;
            await stream.write(": keep-alive\n\n");
            lastBeat = Date.now();
          }
          for (const event of queue.splice(0)) {
            await stream.writeSSE({ event: event.type, data: JSON.stringify(eventBody(event)) });
          }
        }
      } finally {
        clearInterval(heartbeat);
        stopping.removeEventListener("abort", onStop);
        unsubscribe();
      }
    });
  });
}

function eventBody(event: LiveEvent) {
  if (event.type === "instance") {
    const { id, name, display_name, status, status_reason, cpu_limit, memory_limit, updated_at } = event.instance;
    return { id, name, display_name, status, status_reason, cpu_limit, memory_limit, updated_at };
  }
  if (event.type === "operation") return event.operation;
  if (event.type === "ssh") return { instance_id: event.instance_id, event: event.event, state: event.state };
  return { id: event.id };
}
