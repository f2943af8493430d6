import * as k8s from "@kubernetes/client-node";
import { definePlugin } from "../../core/mod.ts";
import { KubernetesBackend } from "./backend.ts";
import { kubernetesDefaults, type KubernetesOptions } from "./options.ts";

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

/**
 * The kubernetes runtime backend as a plugin: on when `CLAWORC_RUNTIME` is `kubernetes` (or `auto`
 * inside a cluster). A missing namespace or an unreachable API is logged plainly at start and `/health`
 * reports the engine as down; the control plane still starts.
 */
export function kubernetesPlugin(options: Partial<KubernetesOptions> & { kubeConfig?: k8s.KubeConfig } = {}) {
  return definePlugin({
    name: "kubernetes",
    needs: [],
    async setup(ctx) {
      if (!options.kubeConfig && ctx.config.runtime !== "kubernetes") return;
      const c = ctx.config.kube;
      const opts: KubernetesOptions = {
        ...kubernetesDefaults,
        namespace: c.namespace,
        kubeconfig: c.kubeconfig,
        context: c.context,
        storageClass: c.storageClass,
        imagePullSecret: c.imagePullSecret,
        nodeSelector: c.nodeSelector,
        tolerations: c.tolerations,
        ...options,
      };
      const backend = new KubernetesBackend(options.kubeConfig ?? loadKubeConfig(opts), opts);
      await backend.checkNamespace().then(
        () => ctx.log.info("kubernetes", { at: backend.location }),
        (e) => ctx.log.error("kubernetes backend cannot work yet", { error: (e as Error).message }),
      );
      ctx.provideBackend(backend);
      ctx.healthCheck("engine", () => backend.available());
    },
  });
}
