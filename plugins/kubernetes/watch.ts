import * as k8s from "@kubernetes/client-node";
import type { PodLike } from "./pod_state.ts";

interface Handlers {
  onPod(pod: PodLike): void | Promise<void>;
  /** The watch was re-established after a gap: events may have been missed, re-read everything. */
  onResync(): void;
}

/**
 * Watches the namespace's pods matching `selector`, resuming from the last resourceVersion seen
 * (bookmarks included); when the API says that version is too old (410 Gone) or the stream breaks,
 * it starts again from now after a back-off (1 s doubling to 30 s) and reports a resync. Returns
 * a function that stops it.
 */
export function watchPods(kc: k8s.KubeConfig, namespace: string, selector: string, h: Handlers): () => void {
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
    try {
      abort = await watch.watch(
        `/api/v1/namespaces/${namespace}/pods`,
        { labelSelector: selector, allowWatchBookmarks: true, resourceVersion: version },
        (type, obj) => {
          delay = 1_000;
          if (type === "ERROR") {
            if (obj?.code === 410) gone = true;
            return;
          }
          const rv = obj?.metadata?.resourceVersion;
          if (rv) version = rv;
          if (type !== "BOOKMARK") void Promise.resolve(h.onPod(obj)).catch(() => {});
        },
        () => again(gone),
      );
    } catch {
      again(false);
    }
  };
  const again = (gone: boolean) => {
    if (stopped) return;
    if (gone) version = undefined;
    // Resumed from the last version seen, nothing was missed; after a 410, everything is re-read.
    timer = setTimeout(() => start(gone), delay);
    delay = Math.min(delay * 2, 30_000);
  };
  start(false);
  return () => {
    stopped = true;
    clearTimeout(timer);
    abort?.abort();
  };
}
