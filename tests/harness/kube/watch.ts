/**
 * Watch streams as the API server serves them: newline-delimited JSON `{type, object}`, initial ADDED
 * events when no resourceVersion (or "0") is given, replay from the resource's history after a given
 * resourceVersion, an ERROR event with a 410 Expired Status (then the end of the stream) when that
 * version is older than the history, BOOKMARKs when `allowWatchBookmarks` is set (periodically and
 * right before the timeout), `timeoutSeconds`, and label/field selectors with the ADDED/DELETED
 * transitions of objects that start or stop matching.
 */
import { type FieldRequirement, matchesFields, matchesLabels, type Requirement } from "./selectors.ts";
import { apiVersionOf, type ResourceType } from "./resources.ts";
import { badRequest, expired, type Status } from "./status.ts";
import type { Store, StoreEvent } from "./store.ts";
import type { KubeObject } from "./types.ts";

export interface WatchRequest {
  resource: ResourceType;
  namespace?: string;
  labels: Requirement[];
  fields: FieldRequirement[];
  resourceVersion?: string;
  allowBookmarks: boolean;
  sendInitialEvents: boolean;
  timeoutSeconds?: number;
}

export interface WatchOptions {
  /** How often an idle watch with bookmarks allowed gets a BOOKMARK (the real server: about a minute). */
  bookmarkIntervalMs: number;
  /** The server-side limit when the request has no timeoutSeconds (the real server: 30–60 minutes). */
  maxTimeoutSeconds: number;
}

/** An open watch, so the double can drop it. */
export interface OpenWatch {
  resource: ResourceType;
  /** Ends the response (as the server does on a watch timeout or shutdown). */
  drop(): void;
}

const encoder = new TextEncoder();

export function serveWatch(store: Store, req: WatchRequest, opts: WatchOptions, open: Set<OpenWatch>): Response {
  const r = req.resource;
  const matches = (o: KubeObject | undefined) =>
    !!o && (!req.namespace || !r.namespaced || o.metadata.namespace === req.namespace) &&
    matchesLabels(req.labels, o.metadata.labels) && matchesFields(req.fields, o);

  let initial: { type: string; object: KubeObject | Status }[] = [];
  let gone: Status | undefined;
  const rvText = req.resourceVersion ?? "";
  if (rvText !== "" && !/^\d+$/.test(rvText)) throw badRequest(`invalid resource version: ${JSON.stringify(rvText)}`);
  const startRv = Number(rvText || "0");
  if (rvText === "" || rvText === "0" || req.sendInitialEvents) {
    initial = store.list(r, req.namespace).filter(matches).map((object) => ({ type: "ADDED", object }));
    if (req.sendInitialEvents && req.allowBookmarks) {
      initial.push({
        type: "BOOKMARK",
        object: bookmark(r, store.resourceVersion, { "k8s.io/initial-events-end": "true" }),
      });
    }
  } else {
    const replay = store.since(r, startRv);
    if ("tooOld" in replay) {
      gone = expired(`too old resource version: ${startRv} (${replay.tooOld})`).status;
    } else {
      initial = replay.map(translate).filter((e): e is { type: string; object: KubeObject } => !!e);
    }
  }

  function translate(e: StoreEvent): { type: string; object: KubeObject } | undefined {
    if (e.resource !== r) return undefined;
    const now = matches(e.type === "DELETED" ? e.previous : e.object);
    const before = e.type === "MODIFIED" ? matches(e.previous) : now;
    if (e.type === "DELETED") return now ? { type: "DELETED", object: e.object } : undefined;
    if (e.type === "ADDED") return now ? { type: "ADDED", object: e.object } : undefined;
    if (now && before) return { type: "MODIFIED", object: e.object };
    if (now && !before) return { type: "ADDED", object: e.object };
    if (!now && before) return { type: "DELETED", object: e.object };
    return undefined;
  }

  let cleanup = () => {};
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (type: string, object: unknown) => {
        try {
          controller.enqueue(encoder.encode(JSON.stringify({ type, object }) + "\n"));
        } catch { /* closed */ }
      };
      let closed = false;
      const timers: ReturnType<typeof setTimeout>[] = [];
      let unsubscribe = () => {};
      const handle: OpenWatch = {
        resource: r,
        drop() {
          if (closed) return;
          cleanup();
          controller.close();
        },
      };
      cleanup = () => {
        closed = true;
        unsubscribe();
        for (const t of timers) clearTimeout(t), clearInterval(t);
        open.delete(handle);
      };
      if (gone) {
        send("ERROR", gone);
        cleanup();
        controller.close();
        return;
      }
      for (const e of initial) send(e.type, e.object);
      unsubscribe = store.subscribe((e) => {
        const out = translate(e);
        if (out) send(out.type, out.object);
      });
      open.add(handle);
      if (req.allowBookmarks) {
        timers.push(setInterval(() => send("BOOKMARK", bookmark(r, store.resourceVersion)), opts.bookmarkIntervalMs));
      }
      const timeout = req.timeoutSeconds ?? opts.maxTimeoutSeconds;
      timers.push(setTimeout(() => {
        if (req.allowBookmarks) send("BOOKMARK", bookmark(r, store.resourceVersion));
        handle.drop();
      }, timeout * 1000));
    },
    cancel() {
      cleanup();
    },
  });
  return new Response(body, {
    status: 200,
    headers: { "content-type": "application/json", "cache-control": "no-cache, private" },
  });
}

/** A BOOKMARK's object: the kind with only metadata.resourceVersion (and annotations) set. */
function bookmark(r: ResourceType, rv: number, annotations?: Record<string, string>) {
  const metadata: Record<string, unknown> = { resourceVersion: String(rv), creationTimestamp: null };
  if (annotations) metadata.annotations = annotations;
  return { kind: r.kind, apiVersion: apiVersionOf(r), metadata };
}
