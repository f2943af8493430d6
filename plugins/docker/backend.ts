// @ts-types="npm:@types/dockerode@4.0.2"
import Docker from "dockerode";
import { Buffer } from "node:buffer";
import type { InstanceSpec, RuntimeBackend, RuntimeState, SshEndpoint } from "../../core/mod.ts";
import { AppError } from "../../core/mod.ts";
import { tarFiles } from "./tar.ts";

/** Options of the Docker runtime backend. */
export interface DockerBackendOptions {
  /** The engine's unix socket (Docker or Podman's Docker-compatible service). */
  socketPath: string;
  /** Network the instances and (in compose) the control plane join. */
  network: string;
  /** Capabilities kept (sshd and supervisord's user switching); everything else is dropped. */
  capabilities: string[];
  pidsLimit: number;
  shmSizeBytes: number;
}

export const dockerDefaults: DockerBackendOptions = {
  socketPath: "/var/run/docker.sock",
  network: "claworc",
  capabilities: ["CHOWN", "SETUID", "SETGID", "SYS_CHROOT", "NET_BIND_SERVICE", "KILL", "FOWNER", "DAC_OVERRIDE"],
  pidsLimit: 4096,
  shmSizeBytes: 512 * 1024 * 1024,
};

const LABEL = "managed-by";
const MANAGED = "claworc";
/** Where the agent reads what the control plane gives it (see agent/rootfs/usr/local/bin/claworc-init). */
const SECRETS_DIR = "/run/claworc";
const HOME_VOLUME_PATH = "/home/agent";

function quantity(cpu: string): number {
  return cpu.endsWith("m") ? Number(cpu.slice(0, -1)) / 1000 : Number(cpu);
}

function bytes(mem: string): number {
  const m = mem.match(/^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti)?$/);
  if (!m) throw new AppError("VALIDATION_FAILED", `Invalid memory quantity "${mem}".`);
  const unit = { Ki: 1 << 10, Mi: 1 << 20, Gi: 1 << 30, Ti: 2 ** 40 }[m[2] as "Ki"] ?? 1;
  return Math.round(Number(m[1]) * unit);
}

/** The runtime backend for Docker (and Podman's Docker API): the only code that talks to the engine. */
export class DockerBackend implements RuntimeBackend {
  readonly name = "docker";
  readonly docker: Docker;

  constructor(private readonly options: DockerBackendOptions) {
    this.docker = new Docker({ socketPath: options.socketPath });
  }

  async available(): Promise<boolean> {
    try {
      await this.docker.ping();
      return true;
    } catch {
      return false;
    }
  }

  /** Volumes, then the container (secrets copied in as files, never env), on the instances' network. */
  async create(spec: InstanceSpec): Promise<void> {
    await this.#engine(async () => {
      await this.#ensureNetwork();
      const labels = { [LABEL]: MANAGED, "claworc.instance-id": String(spec.id), "claworc.instance": spec.name };
      const binds: string[] = [];
      for (const [suffix] of Object.entries(spec.volumes)) {
        const name = `claworc-${spec.name}-${suffix}`;
        await this.docker.createVolume({ Name: name, Labels: labels });
        binds.push(`${name}:${suffix === "home" ? HOME_VOLUME_PATH : `/data/${suffix}`}`);
      }
      const container = await this.docker.createContainer({
        name: spec.name,
        Image: spec.image,
        Labels: labels,
        HostConfig: {
          Binds: binds,
          CapDrop: ["ALL"],
          CapAdd: this.options.capabilities,
          SecurityOpt: ["no-new-privileges"],
          PidsLimit: this.options.pidsLimit,
          ShmSize: this.options.shmSizeBytes,
          NanoCpus: Math.round(quantity(spec.cpuLimit) * 1e9),
          Memory: bytes(spec.memoryLimit),
          RestartPolicy: { Name: "unless-stopped" },
          NetworkMode: this.options.network,
        },
      });
      await container.putArchive(await tarFiles(spec.files), { path: SECRETS_DIR });
    });
  }

  /** Copies files into the (stopped or running) container's /run/claworc; the agent reads them at start. */
  updateFiles(name: string, files: Record<string, string>): Promise<void> {
    return this.#engine(async () => {
      await this.docker.getContainer(name).putArchive(await tarFiles(files), { path: SECRETS_DIR });
    });
  }

  start(name: string): Promise<void> {
    return this.#engine(() => this.docker.getContainer(name).start().then(() => {}), [304]);
  }

  stop(name: string): Promise<void> {
    return this.#engine(() => this.docker.getContainer(name).stop({ t: 20 }).then(() => {}), [304]);
  }

  restart(name: string): Promise<void> {
    return this.#engine(() => this.docker.getContainer(name).restart({ t: 20 }).then(() => {}));
  }

  /** The container and every volume labelled for it; nothing is left behind. */
  async remove(name: string): Promise<void> {
    await this.#engine(async () => {
      await this.docker.getContainer(name).remove({ force: true, v: true }).catch((e) => {
        if ((e as { statusCode?: number }).statusCode !== 404) throw e;
      });
      // Filter in code too: Podman combines several label filters with OR, Docker with AND.
      const { Volumes } = await this.docker.listVolumes({ filters: { label: [`claworc.instance=${name}`] } });
      const mine = (Volumes ?? []).filter((v) =>
        v.Labels?.[LABEL] === MANAGED && v.Labels?.["claworc.instance"] === name
      );
      for (const v of mine) await this.docker.getVolume(v.Name).remove({ force: true });
    });
  }

  async status(name: string): Promise<RuntimeState> {
    try {
      const info = await this.docker.getContainer(name).inspect();
      const s = info.State;
      if (s.Running) return { status: s.Restarting ? "restarting" : "running" };
      if (s.Status === "created") return { status: "creating" };
      return {
        status: s.ExitCode && s.ExitCode !== 0 ? "error" : "stopped",
        reason: s.ExitCode ? `exited with code ${s.ExitCode}` : undefined,
      };
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return { status: "missing" };
      throw this.#translate(e);
    }
  }

  /** The container's address on the instances' network; sshd on 22 as the agent user. */
  async sshEndpoint(name: string): Promise<SshEndpoint> {
    const info = await this.#engine(() => this.docker.getContainer(name).inspect());
    const net = info.NetworkSettings.Networks?.[this.options.network] ??
      Object.values(info.NetworkSettings.Networks ?? {})[0];
    if (!net?.IPAddress) {
      throw new AppError("SSH_UNAVAILABLE", `Instance ${name} has no network address (is it running?).`);
    }
    return { host: net.IPAddress, port: 22, username: "agent", authorizedKeysFile: ".ssh/authorized_keys" };
  }

  async logs(name: string, tail: number): Promise<string> {
    const raw = await this.#engine(() =>
      this.docker.getContainer(name).logs({ stdout: true, stderr: true, tail, follow: false })
    );
    return Buffer.from(raw as unknown as Uint8Array).toString();
  }

  async #ensureNetwork(): Promise<void> {
    const nets = await this.docker.listNetworks({ filters: { name: [this.options.network] } });
    if (nets.some((n) => n.Name === this.options.network)) return;
    await this.docker.createNetwork({ Name: this.options.network, Labels: { [LABEL]: MANAGED } });
  }

  /** Runs an engine call; 304 "already in that state" answers count as success. */
  async #engine<T>(call: () => Promise<T>, okCodes: number[] = []): Promise<T> {
    try {
      return await call();
    } catch (e) {
      if (okCodes.includes((e as { statusCode?: number }).statusCode ?? 0)) return undefined as T;
      throw this.#translate(e);
    }
  }

  #translate(e: unknown): AppError {
    const err = e as { statusCode?: number; code?: string; json?: { message?: string }; message?: string };
    const message = err.json?.message ?? err.message ?? String(e);
    if (err.code === "ENOENT" || err.code === "ECONNREFUSED") {
      return new AppError("NO_BACKEND", `The container engine at ${this.options.socketPath} is not reachable.`);
    }
    if (err.statusCode === 404 && /image/i.test(message)) {
      return new AppError(
        "NOT_FOUND",
        `The agent image is missing (${message}); build it with \`deno run -A scripts/build_agent_image.ts\`.`,
      );
    }
    if (err.statusCode === 404) return new AppError("INSTANCE_NOT_FOUND", message);
    if (err.statusCode === 409) return new AppError("CONFLICT", message);
    return new AppError("SSH_UNAVAILABLE", `Container engine error: ${message}`);
  }
}
