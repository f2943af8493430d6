// @ts-types="npm:@types/dockerode@4.0.2"
import Docker from "dockerode";
import type {
  InstanceSpec,
  RuntimeBackend,
  RuntimeInstance,
  RuntimeResources,
  RuntimeState,
  SshEndpoint,
} from "../../core/mod.ts";
import { AppError } from "../../core/mod.ts";
import { SelfAttachment } from "./attach.ts";
import { copyVolume } from "./copy_volume.ts";
import { demuxLog } from "./demux.ts";
import { translateEngineError } from "./errors.ts";
import { watchEngineEvents } from "./events.ts";
import { bytes, nanoCpus } from "./quantities.ts";
import { type Cidr, formatCidr, formatIp, freeBlock, parseCidr } from "./subnets.ts";
import { tarFiles } from "./tar.ts";

export { type DockerBackendOptions, dockerDefaults } from "./options.ts";
import type { DockerBackendOptions } from "./options.ts";

export const LABEL = "managed-by";
export const MANAGED = "claworc";
export const INSTANCE_LABEL = "claworc.instance";
const ID_LABEL = "claworc.instance-id";
/** Where the agent reads what the control plane gives it (see agent/rootfs/usr/local/bin/claworc-init). */
const SECRETS_DIR = "/run/claworc";
/** Volume name suffix → mount point. One home volume holds workspace, OpenClaw state and browser profile. */
const VOLUME_PATHS: Record<string, string> = { home: "/home/agent" };

type StatusCoded = { statusCode?: number };

/** The runtime backend for Docker (and Podman's Docker API): the only code that talks to the engine. */
export class DockerBackend implements RuntimeBackend {
  readonly name = "docker";
  readonly docker: Docker;
  /** The control plane's own container, kept on instance networks; undefined when it runs on the host. */
  readonly attachment?: SelfAttachment;

  constructor(private readonly options: DockerBackendOptions) {
    this.docker = new Docker({ socketPath: options.socketPath });
    if (options.attachContainer) {
      this.attachment = new SelfAttachment(this.docker, options.attachContainer, options.socketPath);
    }
  }

  get location(): string {
    return this.options.socketPath;
  }

  async available(): Promise<boolean> {
    try {
      await this.docker.ping();
      return true;
    } catch {
      return false;
    }
  }

  async hasImage(ref: string): Promise<boolean> {
    try {
      await this.docker.getImage(ref).inspect();
      return true;
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return false;
      throw translateEngineError(e, this.options.socketPath);
    }
  }

  /** The instance's own network: instances cannot reach one another, the host reaches them all. */
  networkOf(name: string): string {
    return `${this.options.network}-${name}`;
  }

  volumeName(name: string, suffix: string): string {
    return `claworc-${name}-${suffix}`;
  }

  async createVolumes(spec: InstanceSpec, cloneFrom?: string): Promise<void> {
    await this.#engine(async () => {
      for (const suffix of Object.keys(spec.volumes)) {
        const target = this.volumeName(spec.name, suffix);
        await this.docker.createVolume({ Name: target, Labels: this.#labels(spec) });
        if (cloneFrom) {
          await copyVolume(this.docker, spec.image, this.volumeName(cloneFrom, suffix), target);
        }
      }
    });
  }

  /** The hardened container on its own network, secrets copied in as files (never env or labels). */
  async createWorkload(spec: InstanceSpec): Promise<void> {
    await this.#engine(async () => {
      const { network, subnet } = await this.#ensureNetwork(spec);
      // Before anything is created in it: a control plane in a container must reach the instance.
      await this.attachment?.ensure(network);
      const binds = Object.keys(spec.volumes).map((suffix) =>
        `${this.volumeName(spec.name, suffix)}:${VOLUME_PATHS[suffix] ?? `/data/${suffix}`}`
      );
      const container = await this.docker.createContainer({
        name: spec.name,
        // A stable host name: OpenClaw ties its state leases to it, so a redeploy can take them over.
        Hostname: spec.name,
        Image: spec.image,
        Labels: this.#labels(spec),
        HostConfig: {
          Binds: binds,
          CapDrop: ["ALL"],
          CapAdd: this.options.capabilities,
          SecurityOpt: ["no-new-privileges"],
          PidsLimit: this.options.pidsLimit,
          ShmSize: this.options.shmSizeBytes,
          NanoCpus: nanoCpus(spec.cpuLimit),
          Memory: bytes(spec.memoryLimit),
          RestartPolicy: { Name: "unless-stopped" },
          NetworkMode: network,
        },
      });
      const isolation = `pool=${this.options.subnetPool}\nsubnet=${subnet}\n`;
      await container.putArchive(await tarFiles({ ...spec.files, isolation }), { path: SECRETS_DIR });
    });
  }

  async removeWorkload(name: string): Promise<void> {
    await this.#engine(() => this.docker.getContainer(name).remove({ force: true, v: true }), [404]);
  }

  /** Copies files into the (stopped or running) container's /run/claworc; the agent reads them at start. */
  updateFiles(name: string, files: Record<string, string>): Promise<void> {
    return this.#engine(async () => {
      await this.docker.getContainer(name).putArchive(await tarFiles(files), { path: SECRETS_DIR });
    });
  }

  async updateResources(name: string, r: RuntimeResources): Promise<void> {
    const memory = bytes(r.memoryLimit);
    await this.#engine(() =>
      this.docker.getContainer(name).update({ NanoCpus: nanoCpus(r.cpuLimit), Memory: memory, MemorySwap: memory })
    );
  }

  start(name: string): Promise<void> {
    return this.#engine(() => this.docker.getContainer(name).start().then(() => {}), [304]);
  }

  stop(name: string): Promise<void> {
    return this.#engine(() => this.docker.getContainer(name).stop({ t: 20 }).then(() => {}), [304]);
  }

  /** Stop, then start: Podman's restart can race its own kill ("container state improper: stopped"). */
  async restart(name: string): Promise<void> {
    await this.stop(name);
    await this.start(name);
  }

  /** The container, every volume labelled for it and its network; nothing is left behind. */
  async remove(name: string): Promise<void> {
    await this.#engine(async () => {
      await this.removeWorkload(name);
      // Filter in code too: Podman combines several label filters with OR, Docker with AND.
      const { Volumes } = await this.docker.listVolumes({ filters: { label: [`${INSTANCE_LABEL}=${name}`] } });
      const mine = (Volumes ?? []).filter((v) => v.Labels?.[LABEL] === MANAGED && v.Labels?.[INSTANCE_LABEL] === name);
      for (const v of mine) await this.docker.getVolume(v.Name).remove({ force: true });
      // The engine refuses to remove a network a container is still on.
      await this.attachment?.release(this.networkOf(name));
      await this.docker.getNetwork(this.networkOf(name)).remove().catch((e: StatusCoded) => {
        if (e.statusCode !== 404) throw e;
      });
    });
  }

  async status(name: string): Promise<RuntimeState> {
    try {
      return stateOf((await this.docker.getContainer(name).inspect()).State);
    } catch (e) {
      if ((e as StatusCoded).statusCode === 404) return { status: "missing" };
      throw this.#translate(e);
    }
  }

  async list(): Promise<RuntimeInstance[]> {
    const containers = await this.#engine(() =>
      this.docker.listContainers({ all: true, filters: { label: [`${LABEL}=${MANAGED}`] } })
    );
    return containers.filter((c) => c.Labels?.[LABEL] === MANAGED && c.Labels?.[INSTANCE_LABEL]).map((c) => ({
      name: c.Labels[INSTANCE_LABEL],
      instanceId: Number(c.Labels[ID_LABEL]),
      state: stateOf({ Running: c.State === "running", Status: c.State, ExitCode: exitCodeOf(c.Status) }),
    }));
  }

  watch(onChange: (name: string, state: RuntimeState) => void, onResync?: () => void): () => void {
    return watchEngineEvents(this.docker, {
      isOurs: (labels) => labels[LABEL] === MANAGED && Boolean(labels[INSTANCE_LABEL]),
      nameOf: (labels) => labels[INSTANCE_LABEL],
      onEvent: async (name) => onChange(name, await this.status(name)),
      onResync: () => onResync?.(),
    });
  }

  /**
   * The container's address on its network; sshd on 22 as the agent user. A control plane in a
   * container is connected to that network first (every connection attempt heals a lost attachment).
   */
  async sshEndpoint(name: string): Promise<SshEndpoint> {
    const info = await this.#engine(() => this.docker.getContainer(name).inspect());
    const networks = info.NetworkSettings.Networks ?? {};
    const own = networks[this.networkOf(name)];
    const net = own ?? Object.values(networks)[0];
    if (!net?.IPAddress) {
      throw new AppError("SSH_UNAVAILABLE", `Instance ${name} has no network address (is it running?).`);
    }
    if (own) await this.attachment?.ensure(this.networkOf(name));
    return { host: net.IPAddress, port: 22, username: "agent", authorizedKeysFile: ".ssh/authorized_keys" };
  }

  /**
   * At start: connects the control plane's container to the networks of instances that exist already
   * (a recreated control plane container is on none of them). Returns the networks newly joined.
   */
  async attachExisting(): Promise<string[]> {
    if (!this.attachment) return [];
    const nets = await this.#engine(() => this.docker.listNetworks({ filters: { label: [`${LABEL}=${MANAGED}`] } }));
    const ours = nets.filter((n) => {
      const instance = n.Labels?.[INSTANCE_LABEL];
      return n.Labels?.[LABEL] === MANAGED && instance && n.Name === this.networkOf(instance);
    });
    return await this.attachment.ensureAll(ours.map((n) => n.Name));
  }

  async logs(name: string, tail: number): Promise<string> {
    const raw = await this.#engine(() =>
      this.docker.getContainer(name).logs({ stdout: true, stderr: true, tail, follow: false })
    );
    return demuxLog(raw as unknown as Uint8Array);
  }

  #labels(spec: InstanceSpec): Record<string, string> {
    return { [LABEL]: MANAGED, [ID_LABEL]: String(spec.id), [INSTANCE_LABEL]: spec.name };
  }

  /**
   * The instance's own network, created when missing with a free block of the pool (a clash with a
   * network made at the same moment elsewhere, or a block the engine refuses, is retried with the next
   * free block).
   */
  async #ensureNetwork(spec: InstanceSpec): Promise<{ network: string; subnet: string }> {
    const name = this.networkOf(spec.name);
    const subnetOf = (n: Docker.NetworkInspectInfo) => n.IPAM?.Config?.find((c) => c.Subnet)?.Subnet;
    const pool = parseCidr(this.options.subnetPool);
    // Blocks the engine refused although no network of its own has them (Podman also refuses a subnet
    // an interface of the host uses, such as a bridge an interrupted engine left behind).
    const refused: Cidr[] = [];
    for (let attempt = 0; attempt < 16; attempt++) {
      const nets = await this.docker.listNetworks();
      const existing = nets.find((n) => n.Name === name);
      if (existing) {
        const subnet = subnetOf(existing) ?? subnetOf(await this.docker.getNetwork(name).inspect());
        if (subnet) return { network: name, subnet };
        throw new AppError("ENGINE_ERROR", `Network ${name} exists without an IPv4 subnet; remove it and retry.`);
      }
      const used = nets.flatMap((n) => n.IPAM?.Config ?? []).flatMap((c) => {
        try {
          return c.Subnet ? [parseCidr(c.Subnet)] : [];
        } catch {
          return []; // IPv6 and other families cannot clash with the IPv4 pool
        }
      });
      const block = freeBlock(pool, this.options.subnetPrefix, [...used, ...refused], spec.id);
      if (!block) {
        throw new AppError("ENGINE_ERROR", `No free /${this.options.subnetPrefix} left in ${this.options.subnetPool}.`);
      }
      const subnet = formatCidr(block);
      // Docker isolates user-defined bridges from each other; Podman does with its "isolate" option.
      const Options: Record<string, string> = (await this.#isPodman()) ? { isolate: "true" } : {};
      try {
        await this.docker.createNetwork({
          Name: name,
          Labels: this.#labels(spec),
          Options,
          IPAM: { Driver: "default", Config: [{ Subnet: subnet, Gateway: formatIp(block.base + 1) }] },
        });
        return { network: name, subnet };
      } catch (e) {
        if (!/subnet|overlap|already/i.test(String((e as { json?: { message?: string } }).json?.message ?? e))) throw e;
        refused.push(block);
      }
    }
    throw new AppError("ENGINE_ERROR", `Could not find a free subnet for ${name} in ${this.options.subnetPool}.`);
  }

  #podman?: Promise<boolean>;
  #isPodman(): Promise<boolean> {
    this.#podman ??= this.docker.version().then(
      (v) => (v.Components ?? []).some((c) => /podman/i.test(c.Name)),
      () => false,
    );
    return this.#podman;
  }

  /** Runs an engine call; listed status codes (304 "already so", 404 on removal) count as success. */
  async #engine<T>(call: () => Promise<T>, okCodes: number[] = []): Promise<T> {
    try {
      return await call();
    } catch (e) {
      if (e instanceof AppError) throw e;
      if (okCodes.includes((e as StatusCoded).statusCode ?? 0)) return undefined as T;
      throw this.#translate(e);
    }
  }

  #translate(e: unknown): AppError {
    return translateEngineError(e, this.options.socketPath);
  }
}

/**
 * The status a container's state means for an instance. Like the reference, an exited container is
 * `stopped` (a stop that outlasted its grace period exits 137 too); the reason keeps the exit code or
 * the out-of-memory kill. Only a dead container is an `error`.
 */
function stateOf(
  s: { Running: boolean; Restarting?: boolean; Status: string; ExitCode?: number; OOMKilled?: boolean; Dead?: boolean },
): RuntimeState {
  if (s.Running) return { status: s.Restarting ? "restarting" : "running" };
  if (s.Status === "created") return { status: "creating" };
  if (s.Dead || s.Status === "dead") return { status: "error", reason: "the container is dead" };
  if (s.OOMKilled) return { status: "stopped", reason: "killed: out of memory" };
  return { status: "stopped", reason: s.ExitCode ? `exited with code ${s.ExitCode}` : undefined };
}

/** The exit code in a listing's status text ("Exited (137) 2 minutes ago"). */
function exitCodeOf(status: string | undefined): number {
  return Number(status?.match(/Exited \((\d+)\)/)?.[1] ?? 0);
}
