import type { CoreServices } from "../services.ts";
import type { Router } from "../http/router.ts";
import type { InstanceTab, MetricFamily, Plugin, PluginContext, PluginPage, ServiceName } from "./contract.ts";

const NAME = /^[a-z][a-z0-9-]{1,39}$/;

/** Loads plugins in the order given, gives each its scoped context, and runs their lifecycle. */
export class PluginHost {
  readonly pages: PluginPage[] = [];
  /** Instance page tabs, in tab-bar order. */
  readonly instanceTabs: InstanceTab[] = [];
  /** Metric families plugins added to `GET /metrics`. */
  readonly metrics: MetricFamily[] = [];
  readonly healthChecks = new Map<string, () => boolean | Promise<boolean>>();
  #plugins: { plugin: Plugin; ctx: PluginContext }[] = [];
  #prefixes = new Map<string, string>();

  constructor(
    private readonly services: CoreServices,
    private readonly api: Router,
  ) {}

  /** Runs each plugin's `setup`, in order. Names must be unique and needs must exist. */
  async setup(plugins: readonly Plugin[]): Promise<void> {
    for (const plugin of plugins) {
      if (!NAME.test(plugin.name)) throw new Error(`Plugin name "${plugin.name}" must match ${NAME}.`);
      if (this.#plugins.some((p) => p.plugin.name === plugin.name)) {
        throw new Error(`Plugin "${plugin.name}" is registered twice.`);
      }
      for (const need of plugin.needs) {
        if (!(need in this.services)) throw new Error(`Plugin "${plugin.name}" needs unknown service "${need}".`);
      }
      const ctx = this.#context(plugin);
      this.#plugins.push({ plugin, ctx });
      await plugin.setup?.(ctx);
      this.services.log.debug("plugin set up", { plugin: plugin.name });
    }
  }

  /** Runs each plugin's `ready` once the server listens. */
  async ready(): Promise<void> {
    for (const { plugin, ctx } of this.#plugins) await plugin.ready?.(ctx);
  }

  /** Closes plugins in reverse order; one failing does not stop the others. */
  async close(): Promise<void> {
    for (const { plugin } of [...this.#plugins].reverse()) {
      try {
        await plugin.close?.();
      } catch (e) {
        this.services.log.error("plugin close failed", { plugin: plugin.name, error: String(e) });
      }
    }
  }

  names(): string[] {
    return this.#plugins.map((p) => p.plugin.name);
  }

  #context(plugin: Plugin): PluginContext {
    const services = Object.fromEntries(plugin.needs.map((n: ServiceName) => [n, this.services[n]]));
    return {
      name: plugin.name,
      config: this.services.config,
      log: this.services.log.child(plugin.name),
      services: services as PluginContext["services"],
      api: (prefix) => {
        if (!/^\/[a-z0-9/:_-]+$/.test(prefix)) {
          throw new Error(`Plugin "${plugin.name}": invalid route prefix "${prefix}".`);
        }
        const owner = this.#prefixes.get(prefix);
        if (owner && owner !== plugin.name) {
          throw new Error(`Route prefix ${prefix} already belongs to plugin "${owner}".`);
        }
        this.#prefixes.set(prefix, plugin.name);
        return this.api.scope(prefix, plugin.name);
      },
      page: (page) => {
        if (this.pages.some((p) => p.path === page.path)) throw new Error(`Page ${page.path} is registered twice.`);
        this.pages.push(page);
      },
      instanceTab: (tab) => {
        if (!/^[a-z][a-z0-9-]{0,30}$/.test(tab.path)) throw new Error(`Invalid instance tab path "${tab.path}".`);
        if (this.instanceTabs.some((t) => t.path === tab.path)) {
          throw new Error(`Instance tab ${tab.path} is registered twice.`);
        }
        this.instanceTabs.push(tab);
        this.instanceTabs.sort((a, b) => a.order - b.order);
      },
      metric: (family) => {
        const prefix = `claworc_${plugin.name.replaceAll("-", "_")}_`;
        if (!family.name.startsWith(prefix) || !/^[a-z_][a-z0-9_]*$/.test(family.name)) {
          throw new Error(`Plugin "${plugin.name}": metric names must start with ${prefix} (got "${family.name}").`);
        }
        if (this.metrics.some((m) => m.name === family.name)) throw new Error(`Metric ${family.name} is added twice.`);
        this.metrics.push(family);
      },
      provideBackend: (backend) => {
        const current = this.services.runtime.backend;
        if (current) throw new Error(`A runtime backend (${current.name}) is already registered.`);
        this.services.runtime.backend = backend;
      },
      healthCheck: (name, check) => this.healthChecks.set(`${plugin.name}.${name}`, check),
    };
  }
}
