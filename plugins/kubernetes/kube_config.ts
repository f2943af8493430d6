import * as k8s from "@kubernetes/client-node";
import type { KubernetesOptions } from "./options.ts";

/** True inside a pod (Kubernetes sets this for every container). */
const inCluster = () => Boolean(Deno.env.get("KUBERNETES_SERVICE_HOST"));

/**
 * The API client's configuration, in this order: the kubeconfig file named by CLAWORC_KUBECONFIG
 * (with CLAWORC_KUBE_CONTEXT), the in-cluster service account, then KUBECONFIG or ~/.kube/config.
 */
export function loadKubeConfig(o: Pick<KubernetesOptions, "kubeconfig" | "context">): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  if (o.kubeconfig) kc.loadFromFile(o.kubeconfig);
  else if (inCluster()) kc.loadFromCluster();
  else kc.loadFromDefault();
  if (o.context) kc.setCurrentContext(o.context);
  return kc;
}
