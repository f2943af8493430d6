/** What the double's own tests share: client-node clients for a double, and Status extraction. */
import * as k8s from "@kubernetes/client-node";
import type { KubeDouble } from "./double.ts";
import type { Status } from "./status.ts";

export { k8s };

export interface Clients {
  kc: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  net: k8s.NetworkingV1Api;
}

export function clients(double: KubeDouble): Clients {
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions(double.kubeconfig);
  return {
    kc,
    core: kc.makeApiClient(k8s.CoreV1Api),
    apps: kc.makeApiClient(k8s.AppsV1Api),
    net: kc.makeApiClient(k8s.NetworkingV1Api),
  };
}

/** Request options that send a patch with this Content-Type. */
export const patchAs = (type: string) => k8s.setHeaderOptions("Content-Type", type);

/** The Status body of a failed client call (fails when the call succeeds). */
export async function statusOf(call: Promise<unknown>): Promise<Status & { httpCode: number }> {
  try {
    await call;
  } catch (e) {
    if (e instanceof k8s.ApiException) {
      const body = typeof e.body === "string" ? JSON.parse(e.body) : e.body;
      return { ...body, httpCode: e.code };
    }
    throw e;
  }
  throw new Error("expected the call to fail with an API error");
}

/** Polls `check` until it returns a truthy value (returned), or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => T | Promise<T>,
  timeoutMs = 5_000,
  what = "condition",
): Promise<NonNullable<T>> {
  const started = performance.now();
  let last: unknown;
  while (performance.now() - started < timeoutMs) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last}` : ""}`);
}

/** A minimal valid Deployment. */
export function deployment(name: string, image = "localhost/claworc-agent:dev"): k8s.V1Deployment {
  return {
    metadata: { name, labels: { app: name } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      strategy: { type: "Recreate" },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: "agent", image }] },
      },
    },
  };
}
