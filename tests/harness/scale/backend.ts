import {
  AppError,
  definePlugin,
  type Plugin,
  type RuntimeBackend,
  type RuntimeState,
  type SshEndpoint,
} from "../../../core/mod.ts";

/** One instance the scale backend knows: its name (the row's `name`) and where its sshd is. */
export interface ScaleInstance {
  name: string;
  endpoint: SshEndpoint;
}

/** What a scale bench does to the backend while the control plane runs (through serve_scale.ts's commands). */
export interface ScaleBackendControl {
  /** Pushes a status change through `watch`, as an engine event would; false when nobody watches. */
  emit(name: string, state: RuntimeState): boolean;
  /** Makes the instances' endpoints fail (`sshEndpoint` rejects, as for an engine that lost them), or work again. */
  setFailing(names: string[], failing: boolean): void;
  /** How often each instance's endpoint was asked for (one per connection attempt past the rate limiter). */
  endpointCalls(names: string[]): number[];
  resetEndpointCalls(): void;
}

/**
 * A test-only runtime backend whose instances are fixed endpoints of the scale farm (like
 * fixed_backend.ts, with a lifecycle): every instance is `running` until stopped; start/stop/restart only
 * mark the status; endpoints can be made to fail on demand; `watch` delivers the status events a bench
 * emits (for the status-push scenario). No engine exists behind it, so creating workloads is refused.
 */
export function scaleBackend(instances: ScaleInstance[]): { plugin: Plugin; control: ScaleBackendControl } {
  const endpoints = new Map(instances.map((i) => [i.name, i.endpoint]));
  const states = new Map<string, RuntimeState>(instances.map((i) => [i.name, { status: "running" }]));
  const failing = new Set<string>();
  const calls = new Map<string, number>();
  const watchers = new Set<(name: string, state: RuntimeState) => void>();
  const unsupported = (what: string) => () =>
    Promise.reject(new AppError("BAD_REQUEST", `The scale test backend cannot ${what}.`));
  const mark = (name: string, status: RuntimeState["status"]) => {
    if (!states.has(name)) return Promise.reject(new AppError("INSTANCE_NOT_FOUND", `No scale instance ${name}.`));
    states.set(name, { status });
    return Promise.resolve();
  };
  const backend: RuntimeBackend = {
    name: "scale",
    location: "scale farm (test harness)",
    available: () => Promise.resolve(true),
    createVolumes: unsupported("create volumes"),
    createWorkload: unsupported("create a container"),
    removeWorkload: unsupported("remove a container"),
    start: (name) => mark(name, "running"),
    stop: (name) => mark(name, "stopped"),
    restart: (name) => mark(name, "running"),
    remove: (name) => {
      states.delete(name);
      endpoints.delete(name);
      return Promise.resolve();
    },
    status: (name) => Promise.resolve(states.get(name) ?? { status: "missing" }),
    list: () => Promise.resolve([...states].map(([name, state]) => ({ name, instanceId: 0, state: { ...state } }))),
    watch(onChange) {
      watchers.add(onChange);
      return () => watchers.delete(onChange);
    },
    sshEndpoint(name) {
      calls.set(name, (calls.get(name) ?? 0) + 1);
      const e = endpoints.get(name);
      if (!e) return Promise.reject(new AppError("SSH_UNAVAILABLE", `No endpoint for ${name}.`));
      if (failing.has(name)) {
        return Promise.reject(new AppError("SSH_UNAVAILABLE", `${name}'s endpoint is failing (scale harness).`));
      }
      return Promise.resolve(e);
    },
    logs: () => Promise.resolve(""),
  };
  const control: ScaleBackendControl = {
    emit(name, state) {
      if (states.has(name)) states.set(name, { ...state });
      for (const w of watchers) w(name, state);
      return watchers.size > 0;
    },
    setFailing(names, on) {
      for (const n of names) on ? failing.add(n) : failing.delete(n);
    },
    endpointCalls: (names) => names.map((n) => calls.get(n) ?? 0),
    resetEndpointCalls: () => calls.clear(),
  };
  const plugin = definePlugin({ name: "scale-backend", needs: [], setup: (ctx) => ctx.provideBackend(backend) });
  return { plugin, control };
}
