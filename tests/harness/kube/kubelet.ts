/**
 * The kubelet part of the double: runs each pod bound to its node as containers of a
 * {@link PodRuntime} and writes the pod's status as the kubelet does (phase, conditions, container
 * states with ContainerCreating / ErrImagePull / ImagePullBackOff / CreateContainerConfigError /
 * CrashLoopBackOff, restartCount, podIP), with events. Graceful deletion stops the containers, then
 * removes the pod object.
 */
import type { Api } from "./api.ts";
import { decodeBase64 } from "./defaults.ts";
import { EventRecorder } from "./events.ts";
import { parseQuantity } from "./quantity.ts";
import { PODS, PVCS, SECRETS } from "./resources.ts";
import type { ContainerSpec, FileEntry, MountSpec, PodRuntime } from "./runtime.ts";
import { type Json, jsonEqual, type KubeObject, timestamp } from "./types.ts";

export interface KubeletOptions {
  nodeName: string;
  /** status.hostIP. */
  hostIp: string;
  /** Engine names are `<prefix>-...`. */
  prefix: string;
  /** First CrashLoopBackOff delay, doubled per restart up to `maxBackoffMs` (the kubelet: 10 s, 5 min). */
  backoffMs: number;
  maxBackoffMs: number;
  /** Caps graceful stop times (terminationGracePeriodSeconds) to keep tests short; undefined = as the spec says. */
  maxGraceSeconds?: number;
}

interface ContainerRun {
  name: string;
  init: boolean;
  key: string;
  spec: Json;
  created: boolean;
  restartCount: number;
  containerId?: string;
  imageId?: string;
  startedAt?: string;
  waiting?: { reason: string; message?: string };
  lastTerminated?: Json;
  /** An init container that exited 0. */
  done: boolean;
  /** Final state under restartPolicy Never/OnFailure. */
  terminated?: Json;
  backoffUntil?: number;
  backoffMs: number;
  ready: boolean;
  probeNext: number;
  probeSuccesses: number;
  probeFailures: number;
}

interface PodRun {
  uid: string;
  ns: string;
  name: string;
  containers: ContainerRun[];
  emptyDirs: Map<string, string>;
  secretVersions: Map<string, string>;
  scheduled: boolean;
  volumesReady: boolean;
  startTime?: string;
  ip?: string;
  once: Set<string>;
  pullFailures: number;
  unschedulable?: string;
}

const shortUid = (uid: string) => uid.replace(/-/g, "").slice(0, 8);

export class Kubelet {
  readonly #runs = new Map<string, PodRun>();
  readonly #busy = new Set<string>();
  readonly events: EventRecorder;
  #stopped = false;

  constructor(readonly api: Api, readonly runtime: PodRuntime, readonly opts: KubeletOptions) {
    this.events = new EventRecorder(api, opts.nodeName);
  }

  /** The engine name of a pod's container. */
  containerKey(pod: KubeObject, container: string, init = false): string {
    return `${this.opts.prefix}-${pod.metadata.namespace}-${pod.metadata.name}-${init ? "init-" : ""}${container}`;
  }

  /** The engine volume behind a PVC (named after its uid, like a PV `pvc-<uid>`). */
  pvcVolume(pvc: KubeObject): string {
    return `${this.opts.prefix}-pvc-${pvc.metadata.uid}`;
  }

  /** One pass over every pod on the node; slow pods do not hold up the others. */
  async sync(): Promise<void> {
    if (this.#stopped) return;
    const pods = this.api.store.list(PODS).filter((p) => p.spec?.nodeName === this.opts.nodeName);
    const seen = new Set(pods.map((p) => p.metadata.uid!));
    const work: Promise<void>[] = [];
    for (const pod of pods) {
      const uid = pod.metadata.uid!;
      if (this.#busy.has(uid)) continue;
      this.#busy.add(uid);
      work.push(
        this.#syncPod(pod).catch((e) => {
          this.events.record(
            EventRecorder.of(pod),
            "Warning",
            "FailedSync",
            `error syncing pod: ${e?.message ?? e}`,
            "kubelet",
          );
        }).finally(() => this.#busy.delete(uid)),
      );
    }
    // Pods removed from the API without a graceful stop (gracePeriodSeconds=0, namespace gone...).
    for (const [uid, run] of this.#runs) {
      if (seen.has(uid) || this.#busy.has(uid)) continue;
      this.#busy.add(uid);
      work.push(this.#teardown(run, 0).catch(() => {}).finally(() => this.#busy.delete(uid)));
    }
    await Promise.all(work);
  }

  stop() {
    this.#stopped = true;
  }

  async #teardown(run: PodRun, grace: number, pod?: KubeObject) {
    const cap = this.opts.maxGraceSeconds;
    const seconds = cap === undefined ? grace : Math.min(grace, cap);
    await Promise.all(
      run.containers.filter((c) => c.created).map(async (c) => {
        if (pod && !c.init && !c.terminated) {
          this.events.record(
            EventRecorder.of(pod, `spec.containers{${c.name}}`),
            "Normal",
            "Killing",
            `Stopping container ${c.name}`,
            "kubelet",
          );
        }
        await this.runtime.remove(c.key, seconds);
      }),
    );
    for (const volume of run.emptyDirs.values()) await this.runtime.removeVolume(volume);
    this.#runs.delete(run.uid);
  }

  async #syncPod(pod: KubeObject) {
    const uid = pod.metadata.uid!;
    let run = this.#runs.get(uid);
    if (pod.metadata.deletionTimestamp) {
      if (run) {
        const remaining = Math.max(0, (Date.parse(pod.metadata.deletionTimestamp) - Date.now()) / 1000);
        await this.#teardown(run, remaining, pod);
      }
      this.api.internalPodTerminated(pod);
      return;
    }
    if (["Succeeded", "Failed"].includes(pod.status?.phase) && !run) return;
    if (!run) {
      run = {
        uid,
        ns: pod.metadata.namespace!,
        name: pod.metadata.name!,
        containers: [
          ...(pod.spec.initContainers ?? []).map((c: Json) => this.#containerRun(pod, c, true)),
          ...pod.spec.containers.map((c: Json) => this.#containerRun(pod, c, false)),
        ],
        emptyDirs: new Map(),
        secretVersions: new Map(),
        scheduled: false,
        volumesReady: false,
        once: new Set(),
        pullFailures: 0,
      };
      this.#runs.set(uid, run);
    }
    await this.#step(pod, run);
    this.#writeStatus(pod, run);
  }

  #containerRun(pod: KubeObject, c: Json, init: boolean): ContainerRun {
    return {
      name: c.name,
      init,
      key: this.containerKey(pod, c.name, init),
      spec: c,
      created: false,
      restartCount: 0,
      done: false,
      backoffMs: this.opts.backoffMs,
      ready: false,
      probeNext: 0,
      probeSuccesses: 0,
      probeFailures: 0,
      waiting: { reason: init ? "PodInitializing" : "ContainerCreating" },
    };
  }

  #once(run: PodRun, key: string, f: () => void) {
    if (run.once.has(key)) return;
    run.once.add(key);
    f();
  }

  async #step(pod: KubeObject, run: PodRun) {
    const ref = EventRecorder.of(pod);
    // Scheduling: every claim must exist (and not be going away).
    for (const v of pod.spec.volumes ?? []) {
      if (!v.persistentVolumeClaim) continue;
      const pvc = this.api.store.get(PVCS, run.ns, v.persistentVolumeClaim.claimName);
      if (!pvc || pvc.metadata.deletionTimestamp) {
        const why = !pvc
          ? `persistentvolumeclaim ${JSON.stringify(v.persistentVolumeClaim.claimName)} not found`
          : `persistentvolumeclaim ${JSON.stringify(v.persistentVolumeClaim.claimName)} is being deleted`;
        if (!run.scheduled) {
          run.unschedulable =
            `0/1 nodes are available: ${why}. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.`;
          this.#once(
            run,
            `unsched:${why}`,
            () => this.events.record(ref, "Warning", "FailedScheduling", run.unschedulable!, "default-scheduler"),
          );
          return;
        }
      }
    }
    if (!run.scheduled) {
      run.scheduled = true;
      run.unschedulable = undefined;
      run.startTime = timestamp();
      this.events.record(
        ref,
        "Normal",
        "Scheduled",
        `Successfully assigned ${run.ns}/${run.name} to ${this.opts.nodeName}`,
        "default-scheduler",
      );
    }
    if (!run.volumesReady) {
      if (!(await this.#prepareVolumes(pod, run))) return;
      run.volumesReady = true;
    }
    const inits = run.containers.filter((c) => c.init);
    const apps = run.containers.filter((c) => !c.init);
    const pendingInit = inits.find((c) => !c.done);
    if (pendingInit) {
      await this.#runContainer(pod, run, pendingInit, undefined);
      for (const c of apps) c.waiting = { reason: "PodInitializing" };
      return;
    }
    const owner = apps[0];
    for (const c of apps) {
      if (!c.created && c !== owner && !owner.created) continue;
      await this.#runContainer(pod, run, c, c === owner ? undefined : owner.key);
    }
    if (owner.created) {
      const seen = await this.runtime.inspect(owner.key);
      if (seen.ip) run.ip = seen.ip;
    }
    await this.#refreshSecrets(pod, run);
    await this.#probe(pod, run);
  }

  async #prepareVolumes(pod: KubeObject, run: PodRun): Promise<boolean> {
    const ref = EventRecorder.of(pod);
    const fsGroup = pod.spec.securityContext?.fsGroup;
    for (const v of pod.spec.volumes ?? []) {
      if (v.secret) {
        const secret = this.api.store.get(SECRETS, run.ns, v.secret.secretName);
        if (!secret && !v.secret.optional) {
          this.events.record(
            ref,
            "Warning",
            "FailedMount",
            `MountVolume.SetUp failed for volume ${JSON.stringify(v.name)} : secret ${
              JSON.stringify(v.secret.secretName)
            } not found`,
            "kubelet",
          );
          return false;
        }
      } else if (v.persistentVolumeClaim) {
        const pvc = this.api.store.get(PVCS, run.ns, v.persistentVolumeClaim.claimName)!;
        const volume = this.pvcVolume(pvc);
        await this.runtime.ensureVolume(volume, { "claworc.kube-double.pvc": `${run.ns}/${pvc.metadata.name}` });
        await this.runtime.prepareVolume(volume, { fsGroup, readOnly: Boolean(v.persistentVolumeClaim.readOnly) });
      } else if (v.emptyDir) {
        if (v.emptyDir.medium === "Memory") continue;
        const volume = `${this.opts.prefix}-${shortUid(run.uid)}-${v.name}`;
        await this.runtime.ensureVolume(volume, { "claworc.kube-double.pod": run.uid });
        await this.runtime.prepareVolume(volume, { fsGroup, readOnly: false, rootMode: 0o777 });
        run.emptyDirs.set(v.name, volume);
      } else if (!v.configMap && !v.projected && !v.downwardAPI) {
        // hostPath, nfs, csi...: not modelled; they mount nothing (see README).
      }
    }
    return true;
  }

  /** Secret files for a container's secret volume mounts (items/defaultMode/fsGroup honoured). */
  #secretFiles(pod: KubeObject, run: PodRun, c: Json): FileEntry[] | { error: string } {
    const files: FileEntry[] = [];
    const fsGroup = pod.spec.securityContext?.fsGroup;
    for (const m of c.volumeMounts ?? []) {
      const v = (pod.spec.volumes ?? []).find((x: Json) => x.name === m.name);
      if (!v?.secret) continue;
      const secret = this.api.store.get(SECRETS, run.ns, v.secret.secretName);
      if (!secret) {
        if (v.secret.optional) continue;
        return { error: `secret ${JSON.stringify(v.secret.secretName)} not found` };
      }
      run.secretVersions.set(secret.metadata.name!, secret.metadata.resourceVersion!);
      const data: Record<string, string> = secret.data ?? {};
      const items: { key: string; path: string; mode?: number }[] = v.secret.items ??
        Object.keys(data).map((key) => ({ key, path: key }));
      for (const item of items) {
        if (!(item.key in data)) {
          if (v.secret.optional) continue;
          return { error: `couldn't find key ${item.key} in Secret ${run.ns}/${secret.metadata.name}` };
        }
        let path = `${m.mountPath.replace(/\/+$/, "")}/${item.path}`;
        if (m.subPath) {
          if (item.path !== m.subPath) continue;
          path = m.mountPath;
        }
        const mode = item.mode ?? v.secret.defaultMode ?? 0o644;
        files.push({
          path,
          content: decodeBase64(data[item.key]),
          mode: fsGroup !== undefined ? mode | 0o440 : mode,
          uid: 0,
          gid: fsGroup ?? 0,
        });
      }
    }
    return files;
  }

  #containerSpec(
    pod: KubeObject,
    run: PodRun,
    c: Json,
    key: string,
    joinOf?: string,
  ): ContainerSpec | { error: string } {
    const podSc = pod.spec.securityContext ?? {};
    const sc = c.securityContext ?? {};
    const env: string[] = [];
    const values = new Map<string, string>();
    const expand = (s: string) =>
      String(s).replace(
        /\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g,
        (all, name) => all === "$$" ? "$" : values.has(name) ? values.get(name)! : all,
      );
    for (const from of c.envFrom ?? []) {
      if (from.configMapRef) {
        if (from.configMapRef.optional) continue;
        return { error: `configmap ${JSON.stringify(from.configMapRef.name)} not found` };
      }
      if (!from.secretRef) continue;
      const secret = this.api.store.get(SECRETS, run.ns, from.secretRef.name);
      if (!secret) {
        if (from.secretRef.optional) continue;
        return { error: `secret ${JSON.stringify(from.secretRef.name)} not found` };
      }
      for (const [k, v] of Object.entries<string>(secret.data ?? {})) {
        values.set(`${from.prefix ?? ""}${k}`, new TextDecoder().decode(decodeBase64(v)));
      }
    }
    for (const e of c.env ?? []) {
      let value = "";
      if (e.value !== undefined) value = expand(e.value);
      else if (e.valueFrom?.secretKeyRef) {
        const ref = e.valueFrom.secretKeyRef;
        const secret = this.api.store.get(SECRETS, run.ns, ref.name);
        if (!secret) {
          if (ref.optional) continue;
          return { error: `secret ${JSON.stringify(ref.name)} not found` };
        }
        if (!(ref.key in (secret.data ?? {}))) {
          if (ref.optional) continue;
          return { error: `couldn't find key ${ref.key} in Secret ${run.ns}/${ref.name}` };
        }
        value = new TextDecoder().decode(decodeBase64(secret.data[ref.key]));
      } else if (e.valueFrom?.fieldRef) {
        const path = String(e.valueFrom.fieldRef.fieldPath);
        const fields: Record<string, string | undefined> = {
          "metadata.name": pod.metadata.name,
          "metadata.namespace": pod.metadata.namespace,
          "metadata.uid": pod.metadata.uid,
          "spec.nodeName": pod.spec.nodeName,
          "spec.serviceAccountName": pod.spec.serviceAccountName,
          "status.hostIP": this.opts.hostIp,
          "status.podIP": run.ip ?? "",
        };
        const label = path.match(/^metadata\.(labels|annotations)\['(.+)'\]$/);
        value = label ? pod.metadata[label[1]]?.[label[2]] ?? "" : fields[path] ?? "";
      } else if (e.valueFrom?.configMapKeyRef) {
        if (e.valueFrom.configMapKeyRef.optional) continue;
        return { error: `configmap ${JSON.stringify(e.valueFrom.configMapKeyRef.name)} not found` };
      } else if (e.valueFrom?.resourceFieldRef) {
        const q = c.resources?.limits?.[String(e.valueFrom.resourceFieldRef.resource).replace(/^limits\./, "")];
        value = q !== undefined ? String(Math.ceil(parseQuantity(q) ?? 0)) : "";
      }
      values.set(e.name, value);
    }
    for (const [k, v] of values) env.push(`${k}=${v}`);
    const runAsUser = sc.runAsUser ?? podSc.runAsUser;
    const runAsGroup = sc.runAsGroup ?? podSc.runAsGroup;
    const mounts: MountSpec[] = [];
    for (const m of c.volumeMounts ?? []) {
      const v = (pod.spec.volumes ?? []).find((x: Json) => x.name === m.name);
      if (!v) continue;
      if (v.persistentVolumeClaim || (v.emptyDir && v.emptyDir.medium !== "Memory")) {
        if (m.subPath) {
          return {
            error: `subPath ${JSON.stringify(m.subPath)} on volume ${
              JSON.stringify(m.name)
            } is not modelled by the kube double`,
          };
        }
        const pvc = v.persistentVolumeClaim
          ? this.api.store.get(PVCS, run.ns, v.persistentVolumeClaim.claimName)
          : undefined;
        const volume = pvc ? this.pvcVolume(pvc) : run.emptyDirs.get(v.name)!;
        mounts.push({
          kind: "volume",
          volume,
          path: m.mountPath,
          readOnly: Boolean(m.readOnly || v.persistentVolumeClaim?.readOnly),
        });
      } else if (v.emptyDir) {
        mounts.push({ kind: "tmpfs", path: m.mountPath, sizeBytes: parseQuantity(v.emptyDir.sizeLimit) });
      }
    }
    const limits = c.resources?.limits ?? {};
    const cpu = parseQuantity(limits.cpu);
    return {
      key,
      image: c.image,
      entrypoint: c.command?.map(expand),
      cmd: c.args?.map(expand),
      env,
      workingDir: c.workingDir,
      user: runAsUser !== undefined ? `${runAsUser}${runAsGroup !== undefined ? `:${runAsGroup}` : ""}` : undefined,
      groupAdd: [...(podSc.supplementalGroups ?? []), ...(podSc.fsGroup !== undefined ? [podSc.fsGroup] : [])].map(
        String,
      ),
      hostname: (pod.spec.hostname ?? pod.metadata.name!).slice(0, 63),
      capAdd: sc.capabilities?.add ?? [],
      capDrop: sc.capabilities?.drop ?? [],
      privileged: Boolean(sc.privileged),
      readOnlyRootfs: Boolean(sc.readOnlyRootFilesystem),
      noNewPrivileges: sc.allowPrivilegeEscalation === false,
      memoryBytes: limits.memory !== undefined ? Math.round(parseQuantity(limits.memory) ?? 0) : undefined,
      nanoCpus: cpu !== undefined ? Math.round(cpu * 1e9) : undefined,
      mounts,
      joinNetworkOf: joinOf,
      labels: {
        "claworc.kube-double.pod": `${run.ns}/${run.name}`,
        "claworc.kube-double.pod-uid": run.uid,
        "claworc.kube-double.container": c.name,
      },
    };
  }

  /** Creates and starts a container, or observes it and restarts it per restartPolicy with back-off. */
  async #runContainer(pod: KubeObject, run: PodRun, c: ContainerRun, joinOf: string | undefined) {
    const ref = EventRecorder.of(pod, `spec.${c.init ? "initContainers" : "containers"}{${c.name}}`);
    if (!c.created) {
      const image = await this.runtime.image(c.spec.image);
      if (!image) {
        run.pullFailures++;
        const message = `Failed to pull image ${
          JSON.stringify(c.spec.image)
        }: image not present on the node and the kube double never pulls`;
        if (run.pullFailures === 1) {
          c.waiting = { reason: "ErrImagePull", message };
          this.events.record(ref, "Normal", "Pulling", `Pulling image ${JSON.stringify(c.spec.image)}`, "kubelet");
          this.events.record(ref, "Warning", "Failed", message, "kubelet");
          this.events.record(ref, "Warning", "Failed", "Error: ErrImagePull", "kubelet");
        } else {
          c.waiting = { reason: "ImagePullBackOff", message: `Back-off pulling image ${JSON.stringify(c.spec.image)}` };
          this.events.record(ref, "Normal", "BackOff", c.waiting.message!, "kubelet");
          this.events.record(ref, "Warning", "Failed", "Error: ImagePullBackOff", "kubelet");
        }
        return;
      }
      c.imageId = image.id;
      const sc = { ...(pod.spec.securityContext ?? {}), ...(c.spec.securityContext ?? {}) };
      if (sc.runAsNonRoot && sc.runAsUser === undefined && (image.user === "" || /^(0|root)(:|$)/.test(image.user))) {
        c.waiting = {
          reason: "CreateContainerConfigError",
          message:
            `container has runAsNonRoot and image will run as root (pod: "${run.name}_${run.ns}(${run.uid})", container: ${c.name})`,
        };
        this.events.record(ref, "Warning", "Failed", `Error: ${c.waiting.message}`, "kubelet");
        return;
      }
      const spec = this.#containerSpec(pod, run, c.spec, c.key, joinOf);
      const files = this.#secretFiles(pod, run, c.spec);
      const error = "error" in spec ? spec.error : "error" in files ? files.error : undefined;
      if (error || "error" in spec || "error" in files) {
        c.waiting = { reason: "CreateContainerConfigError", message: error };
        this.events.record(ref, "Warning", "Failed", `Error: ${error}`, "kubelet");
        return;
      }
      this.#once(run, `pulled:${c.name}`, () =>
        this.events.record(
          ref,
          "Normal",
          "Pulled",
          `Container image ${JSON.stringify(c.spec.image)} already present on machine`,
          "kubelet",
        ));
      await this.runtime.remove(c.key, 0);
      await this.runtime.createContainer(spec);
      await this.runtime.copyFiles(c.key, files);
      c.created = true;
      this.events.record(ref, "Normal", "Created", `Created container: ${c.name}`, "kubelet");
      await this.runtime.start(c.key);
      this.events.record(ref, "Normal", "Started", `Started container ${c.name}`, "kubelet");
    }
    const seen = await this.runtime.inspect(c.key);
    c.containerId = seen.id ? `podman://${seen.id}` : c.containerId;
    if (seen.running) {
      c.waiting = undefined;
      c.startedAt = seen.startedAt ? timestamp(new Date(seen.startedAt)) : c.startedAt ?? timestamp();
      c.backoffUntil = undefined;
      return;
    }
    if (!seen.exists) {
      // Removed behind the kubelet's back: create it again.
      c.created = false;
      c.waiting = { reason: "ContainerCreating" };
      return;
    }
    if (seen.state === "created" || seen.state === "configured" || seen.state === "initialized") {
      c.waiting = { reason: "ContainerCreating" };
      await this.runtime.start(c.key);
      return;
    }
    // Exited.
    const exitCode = seen.exitCode ?? 0;
    const terminated = {
      exitCode,
      reason: seen.oomKilled ? "OOMKilled" : exitCode === 0 ? "Completed" : "Error",
      startedAt: seen.startedAt ? timestamp(new Date(seen.startedAt)) : c.startedAt,
      finishedAt: seen.finishedAt ? timestamp(new Date(seen.finishedAt)) : timestamp(),
      containerID: c.containerId,
    };
    c.ready = false;
    c.probeSuccesses = 0;
    if (c.init && exitCode === 0) {
      c.done = true;
      c.terminated = terminated;
      c.waiting = undefined;
      return;
    }
    const policy = pod.spec.restartPolicy ?? "Always";
    const restart = policy === "Always" || (policy === "OnFailure" && exitCode !== 0);
    if (!restart) {
      c.terminated = terminated;
      c.waiting = undefined;
      return;
    }
    const now = Date.now();
    if (c.backoffUntil === undefined) {
      c.lastTerminated = terminated;
      c.backoffUntil = now + c.backoffMs;
      c.waiting = {
        reason: "CrashLoopBackOff",
        message: `back-off ${
          Math.round(c.backoffMs / 1000)
        }s restarting failed container=${c.name} pod=${run.name}_${run.ns}(${run.uid})`,
      };
      this.events.record(
        ref,
        "Warning",
        "BackOff",
        `Back-off restarting failed container ${c.name} in pod ${run.name}_${run.ns}(${run.uid})`,
        "kubelet",
      );
      c.backoffMs = Math.min(c.backoffMs * 2, this.opts.maxBackoffMs);
      return;
    }
    if (now < c.backoffUntil) return;
    c.backoffUntil = undefined;
    c.restartCount++;
    await this.runtime.start(c.key);
    this.events.record(ref, "Normal", "Started", `Started container ${c.name}`, "kubelet");
    const after = await this.runtime.inspect(c.key);
    if (after.running) {
      c.waiting = undefined;
      c.startedAt = after.startedAt ? timestamp(new Date(after.startedAt)) : timestamp();
    }
  }

  /** Secret updates reach running pods' secret volumes (the kubelet: within its sync period). */
  async #refreshSecrets(pod: KubeObject, run: PodRun) {
    let changed = false;
    for (const [name, rv] of run.secretVersions) {
      const s = this.api.store.get(SECRETS, run.ns, name);
      if (s && s.metadata.resourceVersion !== rv) changed = true;
    }
    if (!changed) return;
    for (const c of run.containers) {
      if (!c.created || c.init) continue;
      const files = this.#secretFiles(pod, run, c.spec);
      if (!("error" in files)) await this.runtime.copyFiles(c.key, files);
    }
  }

  /** Readiness: running, and the readinessProbe (tcpSocket, exec, httpGet) passing when there is one. */
  async #probe(pod: KubeObject, run: PodRun) {
    const now = Date.now();
    for (const c of run.containers) {
      if (c.init) continue;
      const running = c.created && !c.waiting && !c.terminated;
      const probe = c.spec.readinessProbe;
      if (!running) {
        c.ready = false;
        continue;
      }
      if (!probe) {
        c.ready = true;
        continue;
      }
      if (now < c.probeNext) continue;
      const started = Date.parse(c.startedAt ?? new Date().toISOString());
      if (now - started < (probe.initialDelaySeconds ?? 0) * 1000) continue;
      c.probeNext = now + (probe.periodSeconds ?? 10) * 1000;
      const timeout = (probe.timeoutSeconds ?? 1) * 1000;
      let ok = false;
      const port = (p: Json) =>
        typeof p === "number" ? p : (c.spec.ports ?? []).find((x: Json) => x.name === p)?.containerPort ?? Number(p);
      if (probe.tcpSocket && run.ip) ok = await this.runtime.tcpProbe(run.ip, port(probe.tcpSocket.port), timeout);
      else if (probe.exec) ok = (await this.runtime.exec(c.key, probe.exec.command ?? [], timeout)) === 0;
      else if (probe.httpGet && run.ip) {
        try {
          const res = await fetch(`http://${run.ip}:${port(probe.httpGet.port)}${probe.httpGet.path ?? "/"}`, {
            signal: AbortSignal.timeout(timeout),
          });
          await res.body?.cancel();
          ok = res.status >= 200 && res.status < 400;
        } catch {
          ok = false;
        }
      }
      if (ok) {
        c.probeFailures = 0;
        c.probeSuccesses++;
        if (c.probeSuccesses >= (probe.successThreshold ?? 1)) c.ready = true;
      } else {
        c.probeSuccesses = 0;
        c.probeFailures++;
        if (c.probeFailures >= (probe.failureThreshold ?? 3) || !c.ready) {
          if (c.ready || c.probeFailures === 1) {
            this.events.record(
              EventRecorder.of(pod, `spec.containers{${c.name}}`),
              "Warning",
              "Unhealthy",
              "Readiness probe failed",
              "kubelet",
            );
          }
          c.ready = false;
        }
      }
    }
  }

  #writeStatus(pod: KubeObject, run: PodRun) {
    const old = pod.status ?? {};
    const now = timestamp();
    const oldCond = (type: string) => (old.conditions ?? []).find((c: Json) => c.type === type);
    const cond = (type: string, ok: boolean, reason?: string, message?: string) => {
      const status = ok ? "True" : "False";
      const prev = oldCond(type);
      const out: Json = {
        type,
        status,
        lastProbeTime: null,
        lastTransitionTime: prev?.status === status ? prev.lastTransitionTime : now,
      };
      if (reason) out.reason = reason;
      if (message) out.message = message;
      return out;
    };
    const status: Json = { ...old };
    if (!run.scheduled) {
      status.phase = "Pending";
      status.conditions = [cond("PodScheduled", false, "Unschedulable", run.unschedulable)];
      this.api.internalSetStatus(PODS, pod, status);
      return;
    }
    const inits = run.containers.filter((c) => c.init);
    const apps = run.containers.filter((c) => !c.init);
    const containerStatus = (c: ContainerRun): Json => {
      let state: Json;
      if (c.terminated) state = { terminated: c.terminated };
      else if (c.waiting) state = { waiting: c.waiting };
      else if (c.created) state = { running: { startedAt: c.startedAt } };
      else state = { waiting: { reason: "ContainerCreating" } };
      const out: Json = {
        name: c.name,
        state,
        lastState: c.lastTerminated ? { terminated: c.lastTerminated } : {},
        ready: c.init ? Boolean(c.done) : c.ready,
        restartCount: c.restartCount,
        image: c.spec.image,
        imageID: c.imageId ?? "",
      };
      if (c.containerId) out.containerID = c.containerId;
      out.started = Boolean(state.running);
      return out;
    };
    const initialized = inits.every((c) => c.done);
    const allReady = apps.every((c) => c.ready);
    const anyStarted = apps.some((c) => c.created);
    let phase = "Pending";
    const policy = pod.spec.restartPolicy ?? "Always";
    if (initialized && apps.every((c) => c.created && c.startedAt)) {
      phase = "Running";
      if (policy !== "Always" && apps.every((c) => c.terminated)) {
        phase = apps.every((c) => c.terminated.exitCode === 0) ? "Succeeded" : "Failed";
      }
    }
    if (inits.some((c) => c.terminated && c.terminated.exitCode !== 0)) phase = "Failed";
    status.phase = phase;
    status.conditions = [
      cond("PodReadyToStartContainers", Boolean(run.volumesReady)),
      cond(
        "Initialized",
        initialized,
        initialized ? undefined : "ContainersNotInitialized",
        initialized
          ? undefined
          : `containers with incomplete status: [${inits.filter((c) => !c.done).map((c) => c.name).join(" ")}]`,
      ),
      cond(
        "Ready",
        allReady && phase === "Running",
        allReady ? undefined : "ContainersNotReady",
        allReady
          ? undefined
          : `containers with unready status: [${apps.filter((c) => !c.ready).map((c) => c.name).join(" ")}]`,
      ),
      cond(
        "ContainersReady",
        allReady && phase === "Running",
        allReady ? undefined : "ContainersNotReady",
        allReady
          ? undefined
          : `containers with unready status: [${apps.filter((c) => !c.ready).map((c) => c.name).join(" ")}]`,
      ),
      cond("PodScheduled", true),
    ];
    status.hostIP = this.opts.hostIp;
    status.hostIPs = [{ ip: this.opts.hostIp }];
    if (run.ip && anyStarted && !["Succeeded", "Failed"].includes(phase)) {
      status.podIP = run.ip;
      status.podIPs = [{ ip: run.ip }];
    }
    status.startTime = run.startTime;
    if (inits.length) status.initContainerStatuses = inits.map(containerStatus);
    status.containerStatuses = apps.map(containerStatus);
    if (!jsonEqual(status, old)) this.api.internalSetStatus(PODS, pod, status);
  }

  /** A pod container's log text (`tailLines` honoured); a container that never started is a 400 as from the kubelet. */
  async logs(pod: KubeObject, container: string, tailLines?: number): Promise<string | { waiting: string }> {
    const run = this.#runs.get(pod.metadata.uid!);
    const c = run?.containers.find((x) => x.name === container);
    if (!c?.created) return { waiting: c?.waiting?.reason ?? "ContainerCreating" };
    return await this.runtime.logs(c.key, tailLines);
  }
}
