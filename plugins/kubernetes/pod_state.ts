import type { RuntimeState } from "../../core/mod.ts";

/** The fields of a Pod this backend reads. */
export interface PodLike {
  metadata?: { name?: string; deletionTimestamp?: unknown; labels?: Record<string, string> };
  status?: {
    phase?: string;
    podIP?: string;
    reason?: string;
    message?: string;
    conditions?: { type?: string; status?: string; reason?: string; message?: string }[];
    containerStatuses?: {
      ready?: boolean;
      restartCount?: number;
      state?: {
        waiting?: { reason?: string; message?: string };
        terminated?: { reason?: string; exitCode?: number };
        running?: unknown;
      };
    }[];
  };
}

/** Reasons a container waits for that will not fix themselves. */
const BROKEN = new Set([
  "ImagePullBackOff",
  "ErrImagePull",
  "InvalidImageName",
  "CreateContainerConfigError",
  "CreateContainerError",
  "RunContainerError",
]);

/** True when the pod is the one to talk to: ready and not on its way out. */
export function isReady(pod: PodLike): boolean {
  return !pod.metadata?.deletionTimestamp && pod.status?.phase === "Running" &&
    (pod.status.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True") && Boolean(pod.status.podIP);
}

/**
 * An instance's state from its Deployment's wanted replicas and its pods (as Kubernetes reports
 * them): the reason Kubernetes gives (ImagePullBackOff, CrashLoopBackOff, Unschedulable...) is kept.
 */
export function stateFromPods(replicas: number, pods: PodLike[]): RuntimeState {
  const live = pods.filter((p) => !p.metadata?.deletionTimestamp);
  if (replicas === 0) {
    return live.length || pods.length ? { status: "stopped", reason: "stopping" } : { status: "stopped" };
  }
  if (live.some(isReady)) return { status: "running" };
  const pod = live[0];
  if (!pod) return { status: "creating", reason: pods.length ? "replacing the pod" : "waiting for a pod" };
  const container = pod.status?.containerStatuses?.[0];
  const waiting = container?.state?.waiting;
  if (waiting?.reason === "CrashLoopBackOff") {
    return { status: "error", reason: `CrashLoopBackOff (restarted ${container?.restartCount ?? 0} times)` };
  }
  if (waiting?.reason && BROKEN.has(waiting.reason)) {
    return { status: "error", reason: waiting.message ? `${waiting.reason}: ${waiting.message}` : waiting.reason };
  }
  if (pod.status?.phase === "Failed") return { status: "error", reason: pod.status.reason ?? "the pod failed" };
  const unschedulable = pod.status?.conditions?.find((c) => c.type === "PodScheduled" && c.status === "False");
  if (unschedulable) {
    return { status: "creating", reason: unschedulable.message ?? unschedulable.reason ?? "unscheduled" };
  }
  if (waiting?.reason) return { status: "creating", reason: waiting.reason };
  if ((container?.restartCount ?? 0) > 0 && pod.status?.phase === "Running") {
    return { status: "restarting", reason: "the container restarted" };
  }
  return { status: "creating", reason: pod.status?.phase ?? "Pending" };
}
