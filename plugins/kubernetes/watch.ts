import * as k8s from "@kubernetes/client-node";
import type { PodLike } from "./pod_state.ts";

interface Handlers {
  onPod(pod: PodLike): void | Promise<void>;
  /** The watch was re-established after a gap: events may have been missed, re-read everything. */
  onResync(): void;
}

/**
 * How long each watch request asks the server to keep it open. Shorter than the client library's
 * 30 s inactivity timeout, so a quiet namespace ends its watch cleanly (and it is opened again at
 * once) instead of being aborted as a failure.
 */
const WATCH_SECONDS = 25;

/**
 * Watches the namespace's pods matching `selector`, resuming from the last resourceVersion seen
 * (bookmarks included). A watch the server ends is opened again at once (after 0.1 s); a failed one after a
 * back-off (1 s doubling to 30 s); when the API says the version is too old (410 Gone) it starts
 * again from now and reports a resync. Returns a function that stops it.
 */
export function watchPods(
  kc: k8s.KubeConfig,
  namespace: string,
  selector: string,
  h: Handlers,
  watchSeconds = WATCH_SECONDS,
): () => void {
  const watch = new k8s.Watch(kc);
  let stopped = false;
  let abort: AbortController | null = null;
  let version: string | undefined;
  let delay = 1_000;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const start = async (resync: boolean) => {
    if (stopped) return;
    if (resync) h.onResync();
    let gone = false;
    abort = await watch.watch(
      `/api/v1/namespaces/${namespace}/pods`,
      { labelSelector: selector, allowWatchBookmarks: true, resourceVersion: version, timeoutSeconds: watchSeconds },
      (type, obj) => {
        if (type === "ERROR") {
          if (obj?.code === 410) gone = true;
          return;
        }
        const rv = obj?.metadata?.resourceVersion;
        if (rv) version = rv;
        if (type !== "BOOKMARK") void Promise.resolve(h.onPod(obj)).catch(() => {});
      },
      (err) => again(gone, err),
    ).catch((err) => {
      again(false, err);
      return null;
    });
  };
  const again = (gone: boolean, err: unknown) => {
    if (stopped) return;
    if (gone) version = undefined;
    // Resumed from the last version seen, nothing was missed; after a 410, everything is re-read.
    const failed = Boolean(err) && !gone;
    timer = setTimeout(() => start(gone), failed ? delay : 100);
    delay = failed ? Math.min(delay * 2, 30_000) : 1_000;
  };
  start(false);
  return () => {
    stopped = true;
    clearTimeout(timer);
    abort?.abort();
  };
}
