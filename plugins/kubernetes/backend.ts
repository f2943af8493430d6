import * as k8s from "@kubernetes/client-node";
import type {
  InstanceSpec,
  RuntimeBackend,
  RuntimeInstance,
  RuntimeResources,
  RuntimeState,
  SshEndpoint,
} from "../../core/mod.ts";
import { AppError } from "../../core/mod.ts";
import { kubeError, notFound } from "./errors.ts";
import {
  copyPodManifest,
  deploymentManifest,
  ID_LABEL,
  INSTANCE_LABEL,
  MANAGED,
  MANAGED_BY,
  networkPolicyManifest,
  pvcManifest,
  RESTARTED_AT,
  secretManifest,
  secretName,
  serviceManifest,
} from "./manifests.ts";
import type { KubernetesOptions } from "./options.ts";
import { isReady, type PodLike, stateFromPods } from "./pod_state.ts";
import { watchPods } from "./watch.ts";

const merge = k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch);
// deno-lint-ignore no-explicit-any
type Body = any;

/** The runtime backend for Kubernetes: the only code that talks to the cluster's API. */
export class KubernetesBackend implements RuntimeBackend {
  readonly name = "kubernetes";
  readonly core: k8s.CoreV1Api;
  readonly apps: k8s.AppsV1Api;
  readonly net: k8s.NetworkingV1Api;

  constructor(readonly kc: k8s.KubeConfig, private readonly o: KubernetesOptions) {
    this.core = kc.makeApiClient(k8s.CoreV1Api);
    this.apps = kc.makeApiClient(k8s.AppsV1Api);
    this.net = kc.makeApiClient(k8s.NetworkingV1Api);
  }

  get location(): string {
    return `${this.kc.getCurrentCluster()?.server ?? "?"} namespace ${this.o.namespace}`;
  }

  get #ns(): string {
    return this.o.namespace;
  }

  async available(): Promise<boolean> {
    try {
      await this.core.readNamespace({ name: this.#ns });
      return true;
    } catch {
      return false;
    }
  }

  /** Throws a plain error when the namespace is missing or the API unreachable (checked at start). */
  async checkNamespace(): Promise<void> {
    await this.#api(() => this.core.readNamespace({ name: this.#ns }));
  }

  async createVolumes(spec: InstanceSpec, cloneFrom?: string): Promise<void> {
    for (const suffix of Object.keys(spec.volumes)) {
      await this.#api(() =>
        this.core.createNamespacedPersistentVolumeClaim({
          namespace: this.#ns,
          body: pvcManifest(spec, suffix, this.o) as Body,
        })
      );
      if (cloneFrom) await this.#copyVolume(spec, cloneFrom, suffix);
    }
  }

  /** Secret (the files), Deployment (0 replicas), Service (port 22) and NetworkPolicy. Not started. */
  async createWorkload(spec: InstanceSpec): Promise<void> {
    const ns = this.#ns;
    await this.#api(() => this.core.createNamespacedSecret({ namespace: ns, body: secretManifest(spec) as Body }));
    await this.#api(() =>
      this.apps.createNamespacedDeployment({ namespace: ns, body: deploymentManifest(spec, this.o) as Body })
    );
    await this.#api(() => this.core.createNamespacedService({ namespace: ns, body: serviceManifest(spec) as Body }));
    await this.#api(() =>
      this.net.createNamespacedNetworkPolicy({ namespace: ns, body: networkPolicyManifest(spec, this.o) as Body })
    );
  }

  /** Everything but the volumes (redeploy makes them again over the same claims). */
  async removeWorkload(name: string): Promise<void> {
    const ns = this.#ns;
    await this.#gone(() =>
      this.apps.deleteNamespacedDeployment({ name, namespace: ns, propagationPolicy: "Foreground" })
    );
    await this.#gone(() => this.core.deleteNamespacedService({ name, namespace: ns }));
    await this.#gone(() => this.net.deleteNamespacedNetworkPolicy({ name: `${name}-ssh-only`, namespace: ns }));
    await this.#gone(() => this.core.deleteNamespacedSecret({ name: secretName(name), namespace: ns }));
    await this.#waitForNoPods(name, 120_000);
    // Foreground deletion keeps the Deployment until its pods are gone: wait for it too.
    await this.#waitUntil(
      120_000,
      `the Deployment of ${name} to go`,
      () =>
        this.apps.readNamespacedDeployment({ name, namespace: ns }).then(() => false, (e) => {
          if (notFound(e)) return true;
          throw kubeError(e, this.location);
        }),
    );
  }

  /** Replaces files in the instance's Secret; the agent reads them when its pod starts. */
  async updateFiles(name: string, files: Record<string, string>): Promise<void> {
    await this.#api(() =>
      this.core.patchNamespacedSecret(
        { name: secretName(name), namespace: this.#ns, body: { stringData: files } },
        merge,
      )
    );
  }

  async updateResources(name: string, r: RuntimeResources): Promise<void> {
    const body = {
      spec: {
        template: {
          spec: {
            containers: [{ name: "agent", resources: { limits: { cpu: r.cpuLimit, memory: r.memoryLimit } } }],
          },
        },
      },
    };
    await this.#api(() =>
      this.apps.patchNamespacedDeployment(
        { name, namespace: this.#ns, body },
        k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.StrategicMergePatch),
      )
    );
  }

  start(name: string): Promise<void> {
    return this.#scale(name, 1);
  }

  stop(name: string): Promise<void> {
    return this.#scale(name, 0);
  }

  /** A rollout restart: a new pod template annotation (what `kubectl rollout restart` does). */
  async restart(name: string): Promise<void> {
    const body = { spec: { template: { metadata: { annotations: { [RESTARTED_AT]: new Date().toISOString() } } } } };
    await this.#api(() => this.apps.patchNamespacedDeployment({ name, namespace: this.#ns, body }, merge));
  }

  /** Every object made for the instance, volumes included; nothing is left behind. */
  async remove(name: string): Promise<void> {
    await this.removeWorkload(name);
    const claims = await this.#api(() =>
      this.core.listNamespacedPersistentVolumeClaim({ namespace: this.#ns, labelSelector: this.#selector(name) })
    );
    for (const pvc of claims.items) {
      await this.#gone(() =>
        this.core.deleteNamespacedPersistentVolumeClaim({ name: pvc.metadata!.name!, namespace: this.#ns })
      );
    }
  }

  async status(name: string): Promise<RuntimeState> {
    let replicas: number;
    try {
      const d = await this.apps.readNamespacedDeployment({ name, namespace: this.#ns });
      replicas = d.spec?.replicas ?? 1;
    } catch (e) {
      if (notFound(e)) return { status: "missing" };
      throw kubeError(e, this.location);
    }
    return stateFromPods(replicas, await this.#pods(name));
  }

  async list(): Promise<RuntimeInstance[]> {
    const ns = this.#ns;
    const [deployments, pods] = await Promise.all([
      this.#api(() => this.apps.listNamespacedDeployment({ namespace: ns, labelSelector: `${MANAGED_BY}=${MANAGED}` })),
      this.#api(() => this.core.listNamespacedPod({ namespace: ns, labelSelector: `${MANAGED_BY}=${MANAGED}` })),
    ]);
    return deployments.items.filter((d) => d.metadata?.labels?.[INSTANCE_LABEL]).map((d) => {
      const name = d.metadata!.labels![INSTANCE_LABEL];
      const own = pods.items.filter((p) => p.metadata?.labels?.[INSTANCE_LABEL] === name && !isCopyPod(p));
      return {
        name,
        instanceId: Number(d.metadata!.labels![ID_LABEL]),
        state: stateFromPods(d.spec?.replicas ?? 1, own as PodLike[]),
      };
    });
  }

  watch(onChange: (name: string, state: RuntimeState) => void, onResync?: () => void): () => void {
    return watchPods(this.kc, this.#ns, `${MANAGED_BY}=${MANAGED}`, {
      onPod: async (pod) => {
        const name = pod.metadata?.labels?.[INSTANCE_LABEL];
        if (!name || isCopyPod(pod)) return;
        onChange(name, await this.status(name).catch(() => ({ status: "error" as const, reason: "status unknown" })));
      },
      onResync: () => onResync?.(),
    });
  }

  /** The ready, non-terminating pod's address; sshd on 22 as the agent user. */
  async sshEndpoint(name: string): Promise<SshEndpoint> {
    const pod = (await this.#pods(name)).find(isReady);
    if (!pod?.status?.podIP) {
      throw new AppError("SSH_UNAVAILABLE", `Instance ${name} has no ready pod (is it running?).`);
    }
    return { host: pod.status.podIP, port: 22, username: "agent", authorizedKeysFile: ".ssh/authorized_keys" };
  }

  /** The pod's log through pods/log (for when SSH is down). */
  async logs(name: string, tail: number): Promise<string> {
    const pod = (await this.#pods(name)).find((p) => !p.metadata?.deletionTimestamp);
    if (!pod) return "";
    return await this.#api(() =>
      this.core.readNamespacedPodLog({ name: pod.metadata!.name!, namespace: this.#ns, tailLines: tail })
    );
  }

  async #pods(name: string): Promise<PodLike[]> {
    const list = await this.#api(() =>
      this.core.listNamespacedPod({ namespace: this.#ns, labelSelector: this.#selector(name) })
    );
    return (list.items as PodLike[]).filter((p) => !isCopyPod(p));
  }

  #selector(name: string): string {
    return `${MANAGED_BY}=${MANAGED},${INSTANCE_LABEL}=${name}`;
  }

  async #scale(name: string, replicas: number): Promise<void> {
    await this.#api(() =>
      this.apps.patchNamespacedDeploymentScale({ name, namespace: this.#ns, body: { spec: { replicas } } }, merge)
    );
  }

  /** Copies a volume with a short-lived pod that reads the source read-only; the source keeps running. */
  async #copyVolume(spec: InstanceSpec, from: string, suffix: string): Promise<void> {
    const body = copyPodManifest(spec, from, suffix, this.o);
    const name = (body.metadata as { name: string }).name;
    await this.#api(() => this.core.createNamespacedPod({ namespace: this.#ns, body: body as Body }));
    try {
      const deadline = Date.now() + this.o.copyTimeoutMs;
      for (;;) {
        const pod = await this.#api(() => this.core.readNamespacedPod({ name, namespace: this.#ns }));
        if (pod.status?.phase === "Succeeded") return;
        if (pod.status?.phase === "Failed") {
          const log = await this.core.readNamespacedPodLog({ name, namespace: this.#ns, tailLines: 20 }).catch(() =>
            ""
          );
          throw new AppError(
            "ENGINE_ERROR",
            `Copying the volume of ${from} failed: ${String(log).trim() || "the copy pod failed"}`,
          );
        }
        if (Date.now() > deadline) throw new AppError("ENGINE_ERROR", `Copying the volume of ${from} timed out.`);
        await new Promise((r) => setTimeout(r, 500));
      }
    } finally {
      await this.#gone(() => this.core.deleteNamespacedPod({ name, namespace: this.#ns, gracePeriodSeconds: 0 }));
    }
  }

  #waitForNoPods(name: string, timeoutMs: number): Promise<void> {
    return this.#waitUntil(timeoutMs, `the pods of ${name} to go`, async () => (await this.#pods(name)).length === 0);
  }

  async #waitUntil(timeoutMs: number, what: string, done: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await done())) {
      if (Date.now() > deadline) throw new AppError("ENGINE_ERROR", `Kubernetes: timed out waiting for ${what}.`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  async #api<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (e) {
      throw kubeError(e, this.location);
    }
  }

  /** Deletes; what is already gone is fine. */
  async #gone(call: () => Promise<unknown>): Promise<void> {
    try {
      await call();
    } catch (e) {
      if (!notFound(e)) throw kubeError(e, this.location);
    }
  }
}

function isCopyPod(pod: { metadata?: { labels?: Record<string, string> } }): boolean {
  return pod.metadata?.labels?.["claworc.io/role"] === "copy";
}
