/**
 * The controllers of the double, run as one loop: the Deployment controller (pods straight from the
 * Deployment, named `<deployment>-<pod-template-hash>-<5 chars>` and owned by a ReplicaSet that is
 * not served), the garbage collector (pods of deleted Deployments; foreground and orphan deletion),
 * the PVC binder and pvc-protection, the namespace controller, and then the kubelet.
 */
import type { Api } from "./api.ts";
import { EventRecorder } from "./events.ts";
import type { Kubelet } from "./kubelet.ts";
import { DEPLOYMENTS, NAMESPACES, PODS, PVCS, RESOURCES } from "./resources.ts";
import type { PodRuntime } from "./runtime.ts";
import { ApiError } from "./status.ts";
import { clone, type Json, jsonEqual, type KubeObject, randomSuffix, sleep, templateHash, timestamp } from "./types.ts";

const REVISION = "deployment.kubernetes.io/revision";

interface ReplicaSetInfo {
  uid: string;
  name: string;
  namespace: string;
  deploymentUid: string;
  deploymentName: string;
  revision: number;
}

const isDeleting = (o: KubeObject) => Boolean(o.metadata.deletionTimestamp);
const controllerRef = (p: KubeObject) => (p.metadata.ownerReferences ?? []).find((r) => r.controller);

function podReady(p: KubeObject): boolean {
  return (p.status?.conditions ?? []).some((c: Json) => c.type === "Ready" && c.status === "True");
}

export class Controllers {
  /** Synthetic ReplicaSets by uid; nothing serves them. */
  readonly #replicaSets = new Map<string, ReplicaSetInfo>();
  /** `<deployment uid>/<pod-template-hash>` → ReplicaSet uid. */
  readonly #rsByTemplate = new Map<string, string>();
  /** Last pod-creation failure per Deployment uid (ReplicaFailure condition). */
  readonly #createFailures = new Map<string, string>();
  readonly events: EventRecorder;
  #running = false;
  #loop?: Promise<void>;
  #tickWaiters: (() => void)[] = [];

  constructor(
    readonly api: Api,
    readonly kubelet: Kubelet,
    readonly runtime: PodRuntime,
    readonly intervalMs: number,
  ) {
    this.events = new EventRecorder(api, kubelet.opts.nodeName);
  }

  start() {
    this.#running = true;
    this.#loop = (async () => {
      while (this.#running) {
        try {
          await this.tick();
        } catch (e) {
          console.error("kube double: controller pass failed", e);
        }
        const waiters = this.#tickWaiters;
        this.#tickWaiters = [];
        for (const w of waiters) w();
        await sleep(this.intervalMs);
      }
    })();
  }

  /** Resolves after the next full pass of every controller. */
  nextTick(): Promise<void> {
    return new Promise((resolve) => this.#tickWaiters.push(resolve));
  }

  async stop() {
    this.#running = false;
    this.kubelet.stop();
    await this.#loop;
    for (const w of this.#tickWaiters) w();
  }

  async tick() {
    for (const d of this.api.store.list(DEPLOYMENTS)) this.#reconcileDeployment(d);
    this.#collectGarbage();
    await this.#pvcs();
    this.#namespaces();
    await this.kubelet.sync();
  }

  // ---- Deployment controller ----------------------------------------------------------------------

  /** The synthetic ReplicaSet of a Deployment's template hash (made on first use, revision counted up). */
  #rs(d: KubeObject, hash: string): ReplicaSetInfo {
    const key = `${d.metadata.uid}/${hash}`;
    const uid = this.#rsByTemplate.get(key);
    if (uid) return this.#replicaSets.get(uid)!;
    const revisions = [...this.#replicaSets.values()].filter((r) => r.deploymentUid === d.metadata.uid).map((r) =>
      r.revision
    );
    const info: ReplicaSetInfo = {
      uid: crypto.randomUUID(),
      name: `${d.metadata.name}-${hash}`,
      namespace: d.metadata.namespace!,
      deploymentUid: d.metadata.uid!,
      deploymentName: d.metadata.name!,
      revision: Math.max(0, ...revisions) + 1,
    };
    this.#replicaSets.set(info.uid, info);
    this.#rsByTemplate.set(key, info.uid);
    return info;
  }

  /** The synthetic ReplicaSet controlling a pod, if the double made it. */
  #rsOf(p: KubeObject): ReplicaSetInfo | undefined {
    const ref = controllerRef(p);
    return ref?.kind === "ReplicaSet" ? this.#replicaSets.get(ref.uid) : undefined;
  }

  #ownedPods(d: KubeObject): KubeObject[] {
    return this.api.store.list(PODS, d.metadata.namespace).filter((p) =>
      this.#rsOf(p)?.deploymentUid === d.metadata.uid
    );
  }

  #createPod(d: KubeObject, hash: string): boolean {
    const rs = this.#rs(d, hash);
    const template = clone(d.spec.template);
    const pod = {
      metadata: {
        name: `${rs.name}-${randomSuffix(5)}`,
        generateName: `${rs.name}-`,
        namespace: d.metadata.namespace,
        labels: { ...(template.metadata?.labels ?? {}), "pod-template-hash": hash },
        ...(template.metadata?.annotations ? { annotations: template.metadata.annotations } : {}),
        ownerReferences: [{
          apiVersion: "apps/v1",
          kind: "ReplicaSet",
          name: rs.name,
          uid: rs.uid,
          controller: true,
          blockOwnerDeletion: true,
        }],
      },
      spec: template.spec,
    };
    const rsRef = {
      kind: "ReplicaSet",
      apiVersion: "apps/v1",
      namespace: d.metadata.namespace,
      name: rs.name,
      uid: rs.uid,
    };
    try {
      this.api.create(PODS, d.metadata.namespace, pod);
      this.#createFailures.delete(d.metadata.uid!);
      this.events.record(
        rsRef,
        "Normal",
        "SuccessfulCreate",
        `Created pod: ${pod.metadata.name}`,
        "replicaset-controller",
      );
      return true;
    } catch (e) {
      const message = e instanceof ApiError ? e.status.message! : String(e);
      this.#createFailures.set(d.metadata.uid!, message);
      this.events.record(rsRef, "Warning", "FailedCreate", `Error creating: ${message}`, "replicaset-controller");
      return false;
    }
  }

  #deletePod(p: KubeObject) {
    const ref = controllerRef(p);
    try {
      this.api.delete(PODS, p.metadata.namespace, p.metadata.name!);
      if (ref) {
        this.events.record(
          { kind: "ReplicaSet", apiVersion: "apps/v1", namespace: p.metadata.namespace, name: ref.name, uid: ref.uid },
          "Normal",
          "SuccessfulDelete",
          `Deleted pod: ${p.metadata.name}`,
          "replicaset-controller",
        );
      }
    } catch { /* already gone */ }
  }

  #reconcileDeployment(d: KubeObject) {
    const hash = templateHash(d.spec.template);
    const rs = this.#rs(d, hash);
    const pods = this.#ownedPods(d);
    if (isDeleting(d)) {
      const fin = d.metadata.finalizers ?? [];
      if (fin.includes("orphan")) {
        for (const p of pods) this.api.internalMutate(PODS, p, (x) => delete x.metadata.ownerReferences);
        this.api.internalMutate(
          DEPLOYMENTS,
          d,
          (x) => x.metadata.finalizers = fin.filter((f: string) => f !== "orphan"),
        );
      } else if (fin.includes("foregroundDeletion")) {
        for (const p of pods) if (!isDeleting(p)) this.#deletePod(p);
        if (pods.length === 0) {
          this.api.internalMutate(
            DEPLOYMENTS,
            d,
            (x) => x.metadata.finalizers = fin.filter((f: string) => f !== "foregroundDeletion"),
          );
        }
      }
      return;
    }
    const desired = d.spec.replicas ?? 1;
    const live = pods.filter((p) => !isDeleting(p));
    const current = live.filter((p) => p.metadata.labels?.["pod-template-hash"] === hash);
    const old = live.filter((p) => p.metadata.labels?.["pod-template-hash"] !== hash);
    const oldTerminating = pods.filter((p) => isDeleting(p) && p.metadata.labels?.["pod-template-hash"] !== hash);
    const recreate = d.spec.strategy?.type === "Recreate";
    const scaleEvent = (name: string, from: number, to: number) =>
      this.events.record(
        EventRecorder.of(d),
        "Normal",
        "ScalingReplicaSet",
        `Scaled ${to > from ? "up" : "down"} replica set ${name} from ${from} to ${to}`,
        "deployment-controller",
      );
    if (!d.spec.paused) {
      if (recreate && (old.length || oldTerminating.length)) {
        // Recreate: every old pod is gone before a new one is made.
        if (old.length) scaleEvent(`${old[0].metadata.ownerReferences?.[0]?.name}`, old.length, 0);
        for (const p of old) this.#deletePod(p);
      } else {
        if (current.length < desired) {
          const from = current.length;
          let made = 0;
          for (let i = current.length; i < desired; i++) if (this.#createPod(d, hash)) made++;
          if (made) scaleEvent(rs.name, from, from + made);
        } else if (current.length > desired) {
          const excess = [...current].sort((a, b) =>
            Number(podReady(a)) - Number(podReady(b)) ||
            (b.metadata.creationTimestamp ?? "").localeCompare(a.metadata.creationTimestamp ?? "")
          ).slice(0, current.length - desired);
          scaleEvent(rs.name, current.length, desired);
          for (const p of excess) this.#deletePod(p);
        }
        // RollingUpdate (simplified): old pods go once the new ones are all ready.
        const newReady = this.#ownedPods(d).filter((p) =>
          !isDeleting(p) && p.metadata.labels?.["pod-template-hash"] === hash && podReady(p)
        ).length;
        if (old.length && newReady >= desired) {
          scaleEvent(`${old[0].metadata.ownerReferences?.[0]?.name}`, old.length, 0);
          for (const p of old) {
            this.#deletePod(p);
          }
        }
      }
    }
    this.#deploymentStatus(d, hash, rs);
  }

  #deploymentStatus(d: KubeObject, hash: string, rs: ReplicaSetInfo) {
    const pods = this.#ownedPods(d).filter((p) => !isDeleting(p));
    const desired = d.spec.replicas ?? 1;
    const updated = pods.filter((p) => p.metadata.labels?.["pod-template-hash"] === hash);
    const ready = pods.filter(podReady);
    const minReady = (d.spec.minReadySeconds ?? 0) * 1000;
    const available = ready.filter((p) => {
      const c = (p.status?.conditions ?? []).find((x: Json) => x.type === "Ready");
      return Date.now() - Date.parse(c?.lastTransitionTime ?? timestamp()) >= minReady;
    });
    const old = d.status ?? {};
    const now = timestamp();
    const prev = (type: string) => (old.conditions ?? []).find((c: Json) => c.type === type);
    const cond = (type: string, ok: boolean, reason: string, message: string) => {
      const p = prev(type);
      const status = ok ? "True" : "False";
      const same = p?.status === status && p?.reason === reason && p?.message === message;
      return {
        type,
        status,
        lastUpdateTime: same ? p.lastUpdateTime : now,
        lastTransitionTime: p?.status === status ? p.lastTransitionTime : now,
        reason,
        message,
      };
    };
    const complete = updated.length === desired && pods.length === desired && available.length >= desired;
    const conditions: Json[] = [];
    const isAvailable = available.length >= desired;
    conditions.push(
      cond(
        "Available",
        isAvailable,
        isAvailable ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
        isAvailable ? "Deployment has minimum availability." : "Deployment does not have minimum availability.",
      ),
    );
    const progressing = prev("Progressing");
    let pc;
    if (complete) {
      pc = cond("Progressing", true, "NewReplicaSetAvailable", `ReplicaSet "${rs.name}" has successfully progressed.`);
    } else if (
      !progressing || progressing.reason === "NewReplicaSetAvailable" && !progressing.message?.includes(`"${rs.name}"`)
    ) {
      pc = cond(
        "Progressing",
        true,
        progressing ? "ReplicaSetUpdated" : "NewReplicaSetCreated",
        progressing ? `ReplicaSet "${rs.name}" is progressing.` : `Created new replica set "${rs.name}"`,
      );
    } else if (
      progressing.status === "True" &&
      Date.now() - Date.parse(progressing.lastUpdateTime) > (d.spec.progressDeadlineSeconds ?? 600) * 1000
    ) {
      pc = cond("Progressing", false, "ProgressDeadlineExceeded", `ReplicaSet "${rs.name}" has timed out progressing.`);
    } else {pc = progressing.status === "False" ? progressing : cond(
        "Progressing",
        true,
        progressing.reason === "NewReplicaSetCreated" ? "NewReplicaSetCreated" : "ReplicaSetUpdated",
        progressing.reason === "NewReplicaSetCreated" ? progressing.message : `ReplicaSet "${rs.name}" is progressing.`,
      );}
    conditions.push(pc);
    const failure = this.#createFailures.get(d.metadata.uid!);
    if (failure) conditions.push(cond("ReplicaFailure", true, "FailedCreate", failure));
    const status: Json = { observedGeneration: d.metadata.generation };
    if (pods.length) status.replicas = pods.length;
    if (updated.length) status.updatedReplicas = updated.length;
    if (ready.length) status.readyReplicas = ready.length;
    if (available.length) status.availableReplicas = available.length;
    if (desired - available.length > 0) status.unavailableReplicas = desired - available.length;
    status.terminatingReplicas = this.#ownedPods(d).filter(isDeleting).length || undefined;
    if (status.terminatingReplicas === undefined) delete status.terminatingReplicas;
    status.conditions = conditions;
    if ((d.metadata.annotations ?? {})[REVISION] !== String(rs.revision)) {
      d = this.api.internalMutate(DEPLOYMENTS, d, (x) => {
        x.metadata.annotations = { ...(x.metadata.annotations ?? {}), [REVISION]: String(rs.revision) };
      }) ?? d;
    }
    if (!jsonEqual(status, old)) this.api.internalSetStatus(DEPLOYMENTS, d, status);
  }

  // ---- garbage collector --------------------------------------------------------------------------

  #collectGarbage() {
    for (const p of this.api.store.list(PODS)) {
      if (isDeleting(p)) continue;
      const rs = this.#rsOf(p);
      if (!rs) continue;
      const d = this.api.store.get(DEPLOYMENTS, rs.namespace, rs.deploymentName);
      if (!d || d.metadata.uid !== rs.deploymentUid) this.#deletePod(p);
    }
  }

  // ---- PVC binder, protection, volume reclaim -----------------------------------------------------

  async #pvcs() {
    const pods = this.api.store.list(PODS);
    for (const pvc of this.api.store.list(PVCS)) {
      const ns = pvc.metadata.namespace;
      if (isDeleting(pvc)) {
        const inUse = pods.some((p) =>
          p.metadata.namespace === ns &&
          (p.spec?.volumes ?? []).some((v: Json) => v.persistentVolumeClaim?.claimName === pvc.metadata.name)
        );
        if (!inUse && pvc.metadata.finalizers?.includes("kubernetes.io/pvc-protection")) {
          this.api.internalMutate(
            PVCS,
            pvc,
            (x) =>
              x.metadata.finalizers = (x.metadata.finalizers ?? []).filter((f: string) =>
                f !== "kubernetes.io/pvc-protection"
              ),
          );
        }
        continue;
      }
      if (pvc.status?.phase === "Bound") {
        const want = pvc.spec.resources?.requests?.storage;
        if (want && pvc.status.capacity?.storage !== want) {
          this.api.internalSetStatus(PVCS, pvc, { ...pvc.status, capacity: { storage: want } });
        }
        continue;
      }
      await this.runtime.ensureVolume(this.kubelet.pvcVolume(pvc), {
        "claworc.kube-double.pvc": `${ns}/${pvc.metadata.name}`,
      });
      const bound = this.api.internalMutate(PVCS, pvc, (x) => {
        x.spec.volumeName = `pvc-${x.metadata.uid}`;
        x.metadata.annotations = {
          ...(x.metadata.annotations ?? {}),
          "pv.kubernetes.io/bind-completed": "yes",
          "pv.kubernetes.io/bound-by-controller": "yes",
          "volume.beta.kubernetes.io/storage-provisioner": "claworc.kube-double",
          "volume.kubernetes.io/storage-provisioner": "claworc.kube-double",
        };
      });
      if (bound) {
        this.api.internalSetStatus(PVCS, bound, {
          phase: "Bound",
          accessModes: pvc.spec.accessModes,
          capacity: { storage: pvc.spec.resources.requests.storage },
        });
      }
    }
  }

  /** Called when a PVC object is gone: its volume goes too (reclaim policy Delete). */
  async pvcDeleted(pvc: KubeObject) {
    await this.runtime.removeVolume(this.kubelet.pvcVolume(pvc)).catch(() => {});
  }

  // ---- namespace controller -----------------------------------------------------------------------

  #namespaces() {
    for (const ns of this.api.store.list(NAMESPACES)) {
      if (!isDeleting(ns)) continue;
      const name = ns.metadata.name!;
      let left = 0;
      for (const r of RESOURCES) {
        if (!r.namespaced) continue;
        for (const o of this.api.store.list(r, name)) {
          left++;
          if (isDeleting(o)) continue;
          try {
            this.api.delete(r, name, o.metadata.name!);
          } catch { /* gone meanwhile */ }
        }
      }
      if (left === 0) this.api.internalRemove(NAMESPACES, ns);
    }
  }
}
