/**
 * A worked example of a third runtime backend (docs/plugins.md): instances run on machines you already
 * have (VMs, bare metal) that run the agent image's services and an sshd trusting Claworc's key
 * (`claworc keys show`). Creating an instance claims a free host; deleting it frees the host. Nothing
 * is provisioned, so start/stop only check that the host answers.
 *
 * Use it from a program that starts Claworc with `startServer(config, { routes, plugins: [...builtinPlugins(),
 * staticHostsPlugin({ hosts })], errorPage })`; `tests/docs/plugin_example_test.ts` keeps it compiling and working.
 */
import {
  AppError,
  definePlugin,
  type InstanceSpec,
  type RuntimeBackend,
  type RuntimeInstance,
  type RuntimeState,
  type SshEndpoint,
} from "../../core/mod.ts";

/** One machine an instance can live on. */
export interface StaticHost {
  /** Label for messages, e.g. `gpu-box-1`. */
  label: string;
  ssh: SshEndpoint;
}

export interface StaticHostsOptions {
  hosts: StaticHost[];
  /** How long to wait for a host's sshd to answer before calling it down. */
  probeTimeoutMs: number;
}

export const staticHostsDefaults: Omit<StaticHostsOptions, "hosts"> = { probeTimeoutMs: 2_000 };

/** True when something accepts TCP connections at the endpoint within the timeout. */
async function answers(e: SshEndpoint, timeoutMs: number): Promise<boolean> {
  const timer = new Promise<false>((r) => setTimeout(() => r(false), timeoutMs));
  const dial = Deno.connect({ hostname: e.host, port: e.port }).then((c) => (c.close(), true), () => false);
  return await Promise.race([dial, timer]);
}

/** Runs `f` as a promise, so what it throws arrives as a rejection (as the backend contract expects). */
const later = <T>(f: () => T): Promise<T> => Promise.resolve().then(f);

/** The backend: a fixed pool of hosts, each holding at most one instance. */
export class StaticHostsBackend implements RuntimeBackend {
  readonly name = "static-hosts";
  /** Instance name → the host it claimed, and the instance id it belongs to. */
  #claims = new Map<string, { host: StaticHost; id: number }>();

  constructor(private readonly o: StaticHostsOptions) {}

  get location(): string {
    return `${this.o.hosts.length} static host(s)`;
  }

  available(): Promise<boolean> {
    return Promise.resolve(this.o.hosts.length > 0);
  }

  /** Claims a free host; there are no volumes to make (the host's disk is the volume). */
  createVolumes(spec: InstanceSpec, cloneFrom?: string): Promise<void> {
    return later(() => {
      if (cloneFrom) throw new AppError("BAD_REQUEST", "Static hosts cannot clone an instance's data.");
      if (this.#claims.has(spec.name)) return;
      const taken = new Set([...this.#claims.values()].map((c) => c.host.label));
      const free = this.o.hosts.find((h) => !taken.has(h.label));
      if (!free) throw new AppError("ENGINE_ERROR", "Every static host already runs an instance; add a host first.");
      this.#claims.set(spec.name, { host: free, id: spec.id });
    });
  }

  /** The host already runs the agent's services; the files (keys, token) are the operator's to install. */
  createWorkload(spec: InstanceSpec): Promise<void> {
    return later(() => void this.#claimOf(spec.name));
  }

  removeWorkload(_name: string): Promise<void> {
    return Promise.resolve();
  }

  async start(name: string): Promise<void> {
    const { host } = this.#claimOf(name);
    if (!await answers(host.ssh, this.o.probeTimeoutMs)) {
      throw new AppError("ENGINE_UNAVAILABLE", `Host ${host.label} does not answer on SSH; power it on first.`);
    }
  }

  stop(_name: string): Promise<void> {
    return Promise.resolve(); // hosts stay on; Claworc closes its connection
  }

  async restart(name: string): Promise<void> {
    await this.start(name);
  }

  remove(name: string): Promise<void> {
    this.#claims.delete(name);
    return Promise.resolve();
  }

  async status(name: string): Promise<RuntimeState> {
    const claim = this.#claims.get(name);
    if (!claim) return { status: "missing" };
    return await answers(claim.host.ssh, this.o.probeTimeoutMs)
      ? { status: "running" }
      : { status: "stopped", reason: `${claim.host.label} does not answer on SSH` };
  }

  async list(): Promise<RuntimeInstance[]> {
    return await Promise.all(
      [...this.#claims].map(async ([name, c]) => ({ name, instanceId: c.id, state: await this.status(name) })),
    );
  }

  sshEndpoint(name: string): Promise<SshEndpoint> {
    return later(() => this.#claimOf(name).host.ssh);
  }

  logs(name: string, _tail: number): Promise<string> {
    return later(() => `(static host ${this.#claimOf(name).host.label} keeps its logs itself)`);
  }

  #claimOf(name: string) {
    const claim = this.#claims.get(name);
    if (!claim) throw new AppError("INSTANCE_NOT_FOUND", `No static host is claimed for ${name}.`);
    return claim;
  }
}

/** The plugin: registers the backend and its health check. */
export function staticHostsPlugin(options: Partial<StaticHostsOptions> & Pick<StaticHostsOptions, "hosts">) {
  return definePlugin({
    name: "static-hosts",
    needs: [],
    setup(ctx) {
      const backend = new StaticHostsBackend({ ...staticHostsDefaults, ...options });
      ctx.provideBackend(backend);
      ctx.healthCheck("engine", () => backend.available());
      ctx.log.info("static hosts backend", { hosts: options.hosts.map((h) => h.label) });
    },
  });
}
