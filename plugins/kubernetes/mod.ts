import type * as k8s from "@kubernetes/client-node";
import { definePlugin } from "../../core/mod.ts";
import { kubernetesDefaults, type KubernetesOptions } from "./options.ts";

/**
 * The kubernetes runtime backend as a plugin: on when `CLAWORC_RUNTIME` is `kubernetes` (or `auto`
 * inside a cluster). A missing namespace or an unreachable API is logged plainly at start and `/health`
 * reports the engine as down; the control plane still starts. The API client (a large module) is
 * loaded only then, so a Docker set-up does not carry it in memory.
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
      const [{ KubernetesBackend }, { loadKubeConfig }] = await Promise.all([
        import("./backend.ts"),
        import("./kube_config.ts"),
      ]);
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
