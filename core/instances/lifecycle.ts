import type { AuditActor, AuditLog } from "../audit/audit_log.ts";
import { AppError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { RuntimeBackend, RuntimeInstance } from "../plugins/runtime_backend.ts";
import type { RuntimeRef } from "../plugins/runtime_ref.ts";
import type { Secrets } from "../secrets/secrets.ts";
import type { ModelSync } from "../models/model_sync.ts";
import type { Settings } from "../settings/settings.ts";
import type { HostKeyPins } from "../ssh/host_keys.ts";
import type { SshKeyStore } from "../ssh/key_store.ts";
import type { SshPool } from "../ssh/pool.ts";
import { waitForSshd } from "../ssh/wait_for_sshd.ts";
import { agentFiles, authorizedKeysFile, newGatewayToken } from "./agent_files.ts";
import type { InstanceRuntime, Instances, InstanceSummary } from "./instances.ts";
import type { OperationKind, OperationRun, Operations, OperationStep, StepName } from "./operations.ts";
import { adoptEngineState, CREATION_FAILED, reconcileWithEngine } from "./reconcile.ts";
import { instanceName } from "./slug.ts";

/**
 * How long each readiness step may take. OpenClaw's gateway alone needs ≈ 15 s on a quiet machine, and
 * several times that on a busy one (or when its configuration is changed, restarting it, while it starts).
 */
export const STEP_TIMEOUTS = { sshd: 60_000, tunnels: 60_000, gateway: 120_000 };
/**
 * Steps after SSH connected: the instance already runs and can be reached, so a service inside it that
 * is slow to answer leaves it running (with the reason shown) instead of removing or stopping it.
 */
const SERVICE_STEPS: readonly string[] = ["tunnels", "gateway"];
/** How long a service that missed its step is still watched for, to clear the instance's reason. */
const LATE_SERVICE_WATCH_MS = 10 * 60_000;
const SYSTEM: AuditActor = { id: null, name: "system" };

/** What an admin asks for; everything but the display name has a default from settings. */
export interface CreateInstance {
  display_name: string;
  image?: string;
  cpu_limit?: string;
  memory_limit?: string;
  vnc_resolution?: string;
}

export type UpdateInstance = Partial<Omit<CreateInstance, "image">>;

export interface LifecycleDeps {
  instances: Instances;
  runtime: RuntimeRef;
  ssh: SshPool;
  pins: HostKeyPins;
  keys: SshKeyStore;
  secrets: Secrets;
  audit: AuditLog;
  operations: Operations;
  settings: Settings;
  /** Gives a new instance its openclaw.json and provider keys. */
  models: Pick<ModelSync, "filesForCreate">;
  log: Logger;
}

/** How an operation brings an instance up. */
interface BringUp {
  kind: OperationKind;
  /** Create (or ensure) volumes; with `cloneFrom`, copy that instance's data (then call `copied`). */
  volumes?: { cloneFrom?: string; copied?: () => void };
  /** (Re)create the container with fresh files and a newly pinned host key. */
  workload?: { gatewayToken: string; replace: boolean };
  /** On failure, remove everything the backend made (creation) rather than keep the volumes (redeploy). */
  rollback: boolean;
}

/**
 * Drives instances through the configured runtime backend. Long work (create, clone, redeploy) runs
 * as a tracked operation whose steps are pushed to the dashboard; one action at a time per instance.
 * The engine's own events and a reconcile at start keep the database true to what really runs.
 */
export class InstanceLifecycle {
  #busy = new Map<number, string>();
  #orphans: RuntimeInstance[] = [];
  #unwatch: (() => void) | null = null;
  /** Set by `detach()` at shutdown: failures from then on are interruptions, not rollbacks. */
  #stopping = false;

  constructor(private readonly d: LifecycleDeps) {}

  /** Adds the row (status `creating`) and returns at once; the operation continues in the background. */
  create(input: CreateInstance, actor: AuditActor): { instance: InstanceSummary; done: Promise<void> } {
    const backend = this.d.runtime.require();
    const defaults = this.d.settings.get();
    const runtime: InstanceRuntime = {
      image: input.image ?? defaults.default_image,
      cpu_limit: input.cpu_limit ?? defaults.default_cpu_limit,
      memory_limit: input.memory_limit ?? defaults.default_memory_limit,
      vnc_resolution: input.vnc_resolution ?? defaults.default_vnc_resolution,
    };
    const displayName = input.display_name.trim();
    const instance = this.d.instances.insert(instanceName(displayName), displayName, runtime);
    this.d.audit.record({
      actor,
      action: "instance.create",
      target: instance.name,
      instanceId: instance.id,
      details: { ...runtime },
    });
    const done = this.#operation(backend, instance, actor, {
      kind: "create",
      volumes: {},
      workload: { gatewayToken: newGatewayToken(), replace: false },
      rollback: true,
    });
    return { instance, done };
  }

  /** A new instance with a copy of the source's data (display name + " (Copy)", a new gateway token). */
  clone(sourceId: number, actor: AuditActor): { instance: InstanceSummary; done: Promise<void> } {
    const backend = this.d.runtime.require();
    const source = this.d.instances.get(sourceId);
    this.#assertIdle(sourceId);
    const displayName = `${source.display_name} (Copy)`.slice(0, 100);
    let name = instanceName(displayName);
    if (this.d.instances.findByName(name)) {
      name = `${name.slice(0, 56)}-${crypto.randomUUID().replaceAll("-", "").slice(0, 6)}`;
    }
    const instance = this.d.instances.insert(name, displayName, source, this.d.instances.sourceIps(sourceId));
    this.d.audit.record({
      actor,
      action: "instance.clone",
      target: instance.name,
      instanceId: instance.id,
      details: { source: source.name },
    });
    // The source is held only while its volumes are copied.
    this.#busy.set(sourceId, "being cloned");
    const release = () => this.#busy.delete(sourceId);
    const done = this.#operation(backend, instance, actor, {
      kind: "clone",
      volumes: { cloneFrom: source.name, copied: release },
      workload: { gatewayToken: newGatewayToken(), replace: false },
      rollback: true,
    }).finally(release);
    return { instance, done };
  }

  /**
   * Redeploy: recreates the container from `image` (or the same tag, e.g. after a rebuild or a pull)
   * over the same volumes, so workspace, OpenClaw state and browser profile survive. The image is
   * used as the engine has it; pulling a newer one is the operator's step.
   */
  async redeploy(id: number, image: string | undefined, actor: AuditActor): Promise<{ done: Promise<void> }> {
    const backend = this.d.runtime.require();
    const inst = this.d.instances.get(id);
    this.#assertIdle(id);
    if (image && image !== inst.image) this.d.instances.setRuntime(id, { image });
    const token = await this.d.secrets.decrypt(this.d.instances.gatewayToken(id)).catch(() => newGatewayToken());
    this.d.audit.record({
      actor,
      action: "instance.redeploy",
      target: inst.name,
      instanceId: id,
      details: { image: image ?? inst.image },
    });
    this.d.ssh.stop(id, "instance redeploying");
    this.d.instances.setStatus(id, "restarting", "redeploying");
    const done = this.#operation(backend, this.d.instances.get(id), actor, {
      kind: "redeploy",
      volumes: {},
      workload: { gatewayToken: token, replace: true },
      rollback: false,
    });
    return { done };
  }

  async start(id: number, actor: AuditActor): Promise<InstanceSummary> {
    return await this.#exclusive(id, "starting", async (inst) => {
      const backend = this.d.runtime.require();
      // The current key line (it may have been rotated while the instance was stopped).
      await backend.updateFiles?.(inst.name, { authorized_keys: this.#authorizedKeys(id) });
      await backend.start(inst.name);
      await waitForSshd(() => backend.sshEndpoint(inst.name), STEP_TIMEOUTS.sshd);
      this.d.instances.setStatus(id, "running");
      this.d.ssh.start(id);
      this.d.audit.record({ actor, action: "instance.start", target: inst.name, instanceId: id });
      return this.d.instances.get(id);
    });
  }

  async stop(id: number, actor: AuditActor): Promise<InstanceSummary> {
    return await this.#exclusive(id, "stopping", async (inst) => {
      const backend = this.d.runtime.require();
      this.d.ssh.stop(id);
      await backend.stop(inst.name);
      this.d.instances.setStatus(id, "stopped");
      this.d.audit.record({ actor, action: "instance.stop", target: inst.name, instanceId: id });
      return this.d.instances.get(id);
    });
  }

  async restart(id: number, actor: AuditActor): Promise<InstanceSummary> {
    return await this.#exclusive(id, "restarting", async (inst) => {
      const backend = this.d.runtime.require();
      this.d.ssh.stop(id, "instance restarting");
      this.d.instances.setStatus(id, "restarting");
      await backend.updateFiles?.(inst.name, { authorized_keys: this.#authorizedKeys(id) });
      await backend.restart(inst.name);
      await waitForSshd(() => backend.sshEndpoint(inst.name), STEP_TIMEOUTS.sshd);
      this.d.instances.setStatus(id, "running");
      this.d.ssh.start(id);
      this.d.audit.record({ actor, action: "instance.restart", target: inst.name, instanceId: id });
      return this.d.instances.get(id);
    });
  }

  /**
   * Renames and re-sizes. CPU and memory apply to the running container at once (where the engine
   * can); a new display resolution applies at the next restart. Returns whether a restart is needed.
   */
  async update(id: number, patch: UpdateInstance, actor: AuditActor): Promise<{ restart_required: boolean }> {
    return await this.#exclusive(id, "updating", async (inst) => {
      const backend = this.d.runtime.backend;
      if (patch.display_name !== undefined) this.d.instances.setDisplayName(id, patch.display_name.trim());
      let restart = false;
      const cpu = patch.cpu_limit ?? inst.cpu_limit;
      const memory = patch.memory_limit ?? inst.memory_limit;
      if (cpu !== inst.cpu_limit || memory !== inst.memory_limit) {
        if (inst.status === "running" && backend?.updateResources) {
          await backend.updateResources(inst.name, { cpuLimit: cpu, memoryLimit: memory }).catch((e) => {
            this.d.log.warn("live resource update refused; applies at the next redeploy", { error: String(e) });
            restart = true;
          });
        } else restart = inst.status === "running";
        this.d.instances.setRuntime(id, { cpu_limit: cpu, memory_limit: memory });
      }
      if (patch.vnc_resolution && patch.vnc_resolution !== inst.vnc_resolution) {
        await backend?.updateFiles?.(inst.name, { display: patch.vnc_resolution });
        this.d.instances.setRuntime(id, { vnc_resolution: patch.vnc_resolution });
        restart ||= inst.status === "running";
      }
      this.d.audit.record({ actor, action: "instance.update", target: inst.name, instanceId: id, details: patch });
      return { restart_required: restart };
    });
  }

  /** Removes the container, its volumes and network, then the row (assignments, pins and events go with it). */
  async delete(id: number, actor: AuditActor): Promise<void> {
    await this.#exclusive(id, "being deleted", async (inst) => {
      const backend = this.d.runtime.require();
      this.d.ssh.forget(id);
      await backend.remove(inst.name);
      this.d.instances.delete(id);
      this.d.operations.forget(id);
      this.d.audit.record({
        actor,
        action: "instance.delete",
        target: inst.name,
        instanceId: null,
        details: { instance_id: id },
      });
    });
  }

  /** What the instance is busy with, if anything. */
  busy(id: number): string | undefined {
    return this.#busy.get(id);
  }

  /**
   * Whether the instance is being deleted or is gone (its row is removed only after the backend's
   * remove, so its connection closes first): a stream that lost its channel then has nothing to
   * reattach to. False when that cannot be told (the database already closed at shutdown).
   */
  deleting(id: number): boolean {
    try {
      return this.#busy.get(id) === "being deleted" || !this.d.instances.find(id);
    } catch {
      return false;
    }
  }

  /** Containers the engine has with our label but no instance row (reported, never touched). */
  orphans(): RuntimeInstance[] {
    return [...this.#orphans];
  }

  /** At start: reconcile rows with the engine, then follow its events. Safe to call without a backend. */
  async attach(): Promise<void> {
    this.#stopping = false;
    const backend = this.d.runtime.backend;
    if (!backend) return;
    await this.reconcile().catch((e) => this.d.log.warn("reconcile with the engine failed", { error: String(e) }));
    this.#unwatch = backend.watch?.(
      (name, state) => {
        const inst = this.d.instances.findByName(name);
        if (inst && !this.#busy.has(inst.id)) adoptEngineState(this.d, inst, state);
      },
      () => void this.reconcile().catch(() => {}),
    ) ?? null;
  }

  /**
   * At shutdown: stops following the engine. Operations still running are left as they are (a creation
   * stays `creating` with its container), for the next start to resume instead of rolling them back.
   */
  detach(): void {
    this.#stopping = true;
    this.#unwatch?.();
    this.#unwatch = null;
  }

  /** Matches rows with the engine's containers (see reconcile.ts); resumes interrupted creations. */
  async reconcile(): Promise<void> {
    const backend = this.d.runtime.require();
    this.#orphans = await reconcileWithEngine(this.d, backend, {
      busy: (id) => this.#busy.has(id),
      resume: (inst) => void this.#operation(backend, inst, SYSTEM, { kind: "resume", rollback: true }),
    });
  }

  /** Runs a tracked bring-up; never rejects (the outcome is on the operation and the row). */
  #operation(backend: RuntimeBackend, inst: InstanceSummary, actor: AuditActor, how: BringUp): Promise<void> {
    const steps: StepName[] = [
      ...(how.volumes ? ["volumes" as const] : []),
      ...(how.workload ? ["container" as const] : []),
      "start",
      "sshd",
      "ssh",
      "tunnels",
      "gateway",
    ];
    this.#busy.set(inst.id, how.kind === "redeploy" ? "redeploying" : "creating");
    const run = this.d.operations.begin(inst.id, how.kind, steps);
    return this.#bringUp(backend, inst, how, run).then(
      () => run.succeed(),
      (e) => {
        if (this.#stopping) {
          // The control plane is shutting down under it: nothing is rolled back; the next start resumes it.
          return this.d.log.info("instance operation interrupted by shutdown", { instance: inst.name, kind: how.kind });
        }
        const failed = run.op.steps.find((s) => s.state === "failed");
        return failed && SERVICE_STEPS.includes(failed.name)
          ? this.#serviceLate(inst, actor, how, run, failed, (e as Error).message)
          : this.#failed(backend, inst, actor, how, run, (e as Error).message);
      },
    ).catch((e) => this.d.log.error("instance operation clean-up failed", { instance: inst.name, error: String(e) }))
      .finally(() => this.#busy.delete(inst.id));
  }

  /** Rolls back (creations) and records the failure; the operation is marked failed last, once all is consistent. */
  async #failed(
    backend: RuntimeBackend,
    inst: InstanceSummary,
    actor: AuditActor,
    how: BringUp,
    run: OperationRun,
    cause: string,
  ): Promise<void> {
    const failed = run.op.steps.find((s) => s.state === "failed")?.label ?? "preparation";
    const logs = await backend.logs(inst.name, 20).catch(() => "");
    this.d.ssh.stop(inst.id, "operation failed");
    let reason = `${how.rollback ? CREATION_FAILED : "Redeploy failed"} at "${failed}": ${cause}`;
    if (how.rollback) {
      await backend.remove(inst.name).catch((re) => reason += ` (clean-up failed too: ${(re as Error).message})`);
    }
    this.d.instances.setStatus(inst.id, "error", reason);
    this.#auditFailure(inst, actor, how, { step: failed, reason: cause, container_log_tail: logs.slice(-2000) });
    this.d.log.warn("instance operation failed", { instance: inst.name, kind: how.kind, step: failed, error: cause });
    run.fail(cause);
  }

  #auditFailure(inst: InstanceSummary, actor: AuditActor, how: BringUp, details: Record<string, unknown>): void {
    const action = `instance.${how.kind === "resume" ? "create" : how.kind}`;
    this.d.audit.record({ actor, action, target: inst.name, instanceId: inst.id, outcome: "failure", details });
  }

  /**
   * The instance runs and SSH is connected, but one of its services did not answer in time: it stays
   * running with the reason shown, the operation is marked failed, and the service is watched for a
   * while longer so the reason goes once it answers.
   */
  #serviceLate(
    inst: InstanceSummary,
    actor: AuditActor,
    how: BringUp,
    run: OperationRun,
    step: OperationStep,
    cause: string,
  ): void {
    const reason = `${step.label} did not happen in time: ${cause.replace(/\.$/, "")}. ` +
      "The instance runs; this note clears once it does.";
    this.d.instances.setStatus(inst.id, "running", reason);
    this.#auditFailure(inst, actor, how, { step: step.name, reason: cause, kept_running: true });
    this.d.log.warn("instance service late", { instance: inst.name, kind: how.kind, step: step.name, error: cause });
    run.fail(cause);
    void this.#clearWhenHealthy(inst.id, step.name === "tunnels" ? "desktop" : "gateway", reason);
  }

  /**
   * Clears `reason` once a tunnel probe on the live connection finds `target` healthy (it never connects,
   * so a stopped instance stays stopped); gives up after LATE_SERVICE_WATCH_MS, or as soon as the
   * instance is gone, its status says something else or the control plane stops.
   */
  async #clearWhenHealthy(id: number, target: string, reason: string): Promise<void> {
    const ours = () => {
      if (this.#stopping) return false;
      try {
        const now = this.d.instances.get(id);
        return now.status === "running" && now.status_reason === reason;
      } catch {
        return false; // deleted
      }
    };
    for (const end = performance.now() + LATE_SERVICE_WATCH_MS; performance.now() < end && ours();) {
      await new Promise((r) => setTimeout(r, 3_000));
      await this.d.ssh.probeInstanceTunnels(id);
      if (ours() && this.d.ssh.health(id).tunnels.find((t) => t.label === target)?.status === "healthy") {
        return this.d.instances.setStatus(id, "running");
      }
    }
  }

  async #bringUp(backend: RuntimeBackend, inst: InstanceSummary, how: BringUp, run: OperationRun): Promise<void> {
    const spec = {
      id: inst.id,
      name: inst.name,
      image: inst.image,
      cpuRequest: inst.cpu_limit,
      cpuLimit: inst.cpu_limit,
      memoryRequest: inst.memory_limit,
      memoryLimit: inst.memory_limit,
      files: {} as Record<string, string>,
      volumes: { home: "10Gi" },
    };
    if (how.volumes) {
      await run.step("volumes", () => backend.createVolumes(spec, how.volumes!.cloneFrom));
      how.volumes.copied?.();
    }
    if (how.workload) {
      const { gatewayToken, replace } = how.workload;
      await run.step("container", async () => {
        this.d.instances.setRuntime(inst.id, { gateway_token: await this.d.secrets.encrypt(gatewayToken) });
        const made = agentFiles({
          name: inst.name,
          gatewayToken,
          authorizedKeys: this.#authorizedKeys(inst.id),
          vncResolution: inst.vnc_resolution,
          openclaw: await this.d.models.filesForCreate(inst.id, Boolean(how.volumes && !how.volumes.cloneFrom)),
        });
        if (replace) {
          // Stopped first, so services shut down cleanly (OpenClaw releases its state leases).
          await backend.stop(inst.name).catch(() => {});
          await backend.removeWorkload(inst.name);
        }
        this.d.pins.pin(inst.id, made.hostPublicKey, "backend");
        await backend.createWorkload({ ...spec, files: made.files });
      });
    }
    await run.step("start", () => backend.start(inst.name));
    await run.step("sshd", () => waitForSshd(() => backend.sshEndpoint(inst.name), STEP_TIMEOUTS.sshd));
    await run.step("ssh", async () => {
      await this.d.ssh.connect(inst.id);
    });
    this.d.instances.setStatus(inst.id, "running");
    this.d.ssh.start(inst.id);
    await run.step("tunnels", () => this.d.ssh.waitForTunnel(inst.id, "desktop", STEP_TIMEOUTS.tunnels));
    await run.step("gateway", () => this.d.ssh.waitForTunnel(inst.id, "gateway", STEP_TIMEOUTS.gateway));
  }

  /** Runs one action with the instance marked busy; refuses (409) while another action runs. */
  async #exclusive<T>(id: number, what: string, action: (inst: InstanceSummary) => Promise<T>): Promise<T> {
    const inst = this.d.instances.get(id);
    this.#assertIdle(id);
    this.#busy.set(id, what);
    try {
      return await action(inst);
    } finally {
      this.#busy.delete(id);
    }
  }

  #assertIdle(id: number): void {
    const what = this.#busy.get(id);
    if (what) {
      throw new AppError("INSTANCE_BUSY", `Instance ${id} is ${what}; try again when that has finished.`);
    }
  }

  #authorizedKeys(id: number): string {
    return authorizedKeysFile(this.d.keys.publicKey, this.d.ssh.targets, this.d.instances.sourceIps(id));
  }
}
