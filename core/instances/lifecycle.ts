import type { AuditActor, AuditLog } from "../audit/audit_log.ts";
import type { Logger } from "../log.ts";
import type { RuntimeRef } from "../plugins/runtime_ref.ts";
import type { Secrets } from "../secrets/secrets.ts";
import { authorizedLine } from "../ssh/authorized_line.ts";
import type { HostKeyPins } from "../ssh/host_keys.ts";
import { generateKeyPair, type SshKeyStore } from "../ssh/key_store.ts";
import type { SshPool } from "../ssh/pool.ts";
import { fromOption } from "../ssh/source_ips.ts";
import type { Instances, InstanceSummary } from "./instances.ts";
import { instanceName } from "./slug.ts";
import { waitForSshd } from "../ssh/wait_for_sshd.ts";

/** How long a started container may take until its sshd answers. */
const SSHD_TIMEOUT_MS = 60_000;

/** What an admin asks for; everything but the display name has a default. */
export interface CreateInstance {
  display_name: string;
  image?: string;
  cpu_limit?: string;
  memory_limit?: string;
}

export interface LifecycleDeps {
  instances: Instances;
  runtime: RuntimeRef;
  ssh: SshPool;
  pins: HostKeyPins;
  keys: SshKeyStore;
  secrets: Secrets;
  audit: AuditLog;
  log: Logger;
  defaults: { image: string; cpu_limit: string; memory_limit: string };
}

/**
 * Drives instances through the configured runtime backend: create (keys and token made here and
 * handed over as files, host key pinned before the first connection), start, stop, restart, delete.
 * The SSH pool is told at once, so connections follow the instance's life without polling.
 */
export class InstanceLifecycle {
  constructor(private readonly d: LifecycleDeps) {}

  /** Adds the row (status `creating`) and returns at once; the engine work continues in the background. */
  create(input: CreateInstance, actor: AuditActor): { instance: InstanceSummary; done: Promise<void> } {
    const backend = this.d.runtime.require();
    const instance = this.d.instances.insert(instanceName(input.display_name), input.display_name.trim());
    const runtime = {
      image: input.image ?? this.d.defaults.image,
      cpu_limit: input.cpu_limit ?? this.d.defaults.cpu_limit,
      memory_limit: input.memory_limit ?? this.d.defaults.memory_limit,
    };
    this.d.audit.record({
      actor,
      action: "instance.create",
      target: instance.name,
      instanceId: instance.id,
      details: runtime,
    });
    const done = (async () => {
      const hostKey = generateKeyPair(`${instance.name}-host`);
      const token = crypto.getRandomValues(new Uint8Array(32)).reduce(
        (s, b) => s + b.toString(16).padStart(2, "0"),
        "",
      );
      this.d.instances.setRuntime(instance.id, { ...runtime, gateway_token: await this.d.secrets.encrypt(token) });
      this.d.pins.pin(instance.id, hostKey.publicKey, "backend");
      try {
        await backend.create({
          id: instance.id,
          name: instance.name,
          image: runtime.image,
          cpuRequest: runtime.cpu_limit,
          cpuLimit: runtime.cpu_limit,
          memoryRequest: runtime.memory_limit,
          memoryLimit: runtime.memory_limit,
          files: {
            host_key: hostKey.privateKey,
            authorized_keys: this.#authorizedKeys(instance.id),
            gateway_token: token,
          },
          volumes: { home: "10Gi" },
        });
        await backend.start(instance.name);
        await waitForSshd(() => backend.sshEndpoint(instance.name), SSHD_TIMEOUT_MS);
        this.d.instances.setStatus(instance.id, "running");
        this.d.ssh.start(instance.id);
      } catch (e) {
        const reason = (e as Error).message;
        this.d.instances.setStatus(instance.id, "error", reason);
        this.d.audit.record({
          actor,
          action: "instance.create",
          target: instance.name,
          instanceId: instance.id,
          outcome: "failure",
          details: { reason },
        });
        await backend.remove(instance.name).catch(() => {});
      }
    })().catch((e) =>
      this.d.log.error("instance creation failed after the request", { instance: instance.id, error: String(e) })
    );
    return { instance, done };
  }

  async start(id: number, actor: AuditActor): Promise<InstanceSummary> {
    const inst = this.d.instances.get(id);
    const backend = this.d.runtime.require();
    // The current key line (it may have been rotated while the instance was stopped).
    await backend.updateFiles?.(inst.name, { authorized_keys: this.#authorizedKeys(id) });
    await backend.start(inst.name);
    await waitForSshd(() => backend.sshEndpoint(inst.name), SSHD_TIMEOUT_MS);
    this.d.instances.setStatus(id, "running");
    this.d.ssh.start(id);
    this.d.audit.record({ actor, action: "instance.start", target: inst.name, instanceId: id });
    return this.d.instances.get(id);
  }

  async stop(id: number, actor: AuditActor): Promise<InstanceSummary> {
    const inst = this.d.instances.get(id);
    this.d.ssh.stop(id);
    await this.d.runtime.require().stop(inst.name);
    this.d.instances.setStatus(id, "stopped");
    this.d.audit.record({ actor, action: "instance.stop", target: inst.name, instanceId: id });
    return this.d.instances.get(id);
  }

  async restart(id: number, actor: AuditActor): Promise<InstanceSummary> {
    const inst = this.d.instances.get(id);
    const backend = this.d.runtime.require();
    this.d.ssh.stop(id, "instance restarting");
    await backend.updateFiles?.(inst.name, { authorized_keys: this.#authorizedKeys(id) });
    await backend.restart(inst.name);
    await waitForSshd(() => backend.sshEndpoint(inst.name), SSHD_TIMEOUT_MS);
    this.d.instances.setStatus(id, "running");
    this.d.ssh.start(id);
    this.d.audit.record({ actor, action: "instance.restart", target: inst.name, instanceId: id });
    return this.d.instances.get(id);
  }

  /** Removes the container and its volumes, then the row (assignments, pins and events go with it). */
  async delete(id: number, actor: AuditActor): Promise<void> {
    const inst = this.d.instances.get(id);
    this.d.ssh.forget(id);
    await this.d.runtime.require().remove(inst.name);
    this.d.instances.delete(id);
    this.d.audit.record({
      actor,
      action: "instance.delete",
      target: inst.name,
      instanceId: null,
      details: { instance_id: id },
    });
  }

  #authorizedKeys(id: number): string {
    return authorizedLine(this.d.keys.publicKey, this.d.ssh.targets, fromOption(this.d.instances.sourceIps(id))) + "\n";
  }
}
