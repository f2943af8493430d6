import assert from "node:assert/strict";
import * as k8s from "@kubernetes/client-node";
import { watchPods } from "../../../plugins/kubernetes/watch.ts";
import { startKubeDouble } from "../../harness/kube/mod.ts";
import { until } from "../../harness/pool.ts";

const NS = "claworc";
const pod = (name: string) => ({
  metadata: { name, labels: { "app.kubernetes.io/managed-by": "claworc" } },
  spec: { containers: [{ name: "c", image: "busybox" }] },
});

Deno.test("the pod watch outlives quiet periods (server-ended watches reopen at once) and re-reads after 410", async () => {
  const double = await startKubeDouble({ namespaces: [NS], loopIntervalMs: 100 });
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions(double.kubeconfig);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const seen = new Set<string>();
  let resyncs = 0;
  const stop = watchPods(kc, NS, "app.kubernetes.io/managed-by=claworc", {
    onPod: (p) => void seen.add(p.metadata?.name ?? ""),
    onResync: () => resyncs++,
  }, 1);
  try {
    await core.createNamespacedPod({ namespace: NS, body: pod("first") });
    await until(() => seen.has("first"), 5_000, "the first pod's event");
    // Several watches end on the server while nothing happens; the next event still comes quickly.
    await new Promise((r) => setTimeout(r, 6_000));
    const created = performance.now();
    await core.createNamespacedPod({ namespace: NS, body: pod("second") });
    // (A watch that backed off on every quiet end would only be reopened ~4 s later here.)
    await until(() => seen.has("second"), 3_000, "the second pod's event after a quiet period");
    assert.ok(performance.now() - created < 3_000);
    assert.equal(resyncs, 0, "nothing was missed, so no resync");
    // The history is gone (the watch's version is too old): the watch starts again and says so.
    double.compact();
    double.dropWatches({ resource: "pods" });
    await core.createNamespacedPod({ namespace: NS, body: pod("third") });
    await until(() => resyncs > 0, 10_000, "a resync after 410 Gone");
    await until(() => seen.has("third"), 10_000, "the third pod after the resync");
  } finally {
    stop();
    await double.close();
  }
});
