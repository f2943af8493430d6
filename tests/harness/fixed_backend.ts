import { AppError, definePlugin, type RuntimeBackend, type SshEndpoint } from "../../core/mod.ts";

/**
 * A test-only runtime backend whose instances are fixed SSH endpoints (harness sshds). Only the SSH
 * endpoint is real; lifecycle calls are refused, because no engine exists behind it, except `remove`
 * when `removeDelayMs` is given: it then succeeds after that long (an engine removing a container), so
 * a test can watch what happens while an instance is being deleted.
 */
export function fixedBackend(endpoints: Map<string, SshEndpoint>, opts: { removeDelayMs?: number } = {}) {
  const unsupported = (what: string) => () =>
    Promise.reject(new AppError("BAD_REQUEST", `The fixed test backend cannot ${what}.`));
  const backend: RuntimeBackend = {
    name: "fixed",
    available: () => Promise.resolve(true),
    createVolumes: unsupported("create volumes"),
    createWorkload: unsupported("create a container"),
    removeWorkload: unsupported("remove a container"),
    start: unsupported("start"),
    stop: unsupported("stop"),
    restart: unsupported("restart"),
    remove: opts.removeDelayMs === undefined
      ? unsupported("remove")
      : () => new Promise<void>((r) => setTimeout(r, opts.removeDelayMs)),
    status: (name) => Promise.resolve({ status: endpoints.has(name) ? "running" : "missing" }),
    list: () =>
      Promise.resolve([...endpoints.keys()].map((name) => ({ name, instanceId: 0, state: { status: "running" } }))),
    sshEndpoint: (name) => {
      const e = endpoints.get(name);
      return e ? Promise.resolve(e) : Promise.reject(new Error(`no endpoint for ${name}`));
    },
    logs: () => Promise.resolve(""),
  };
  return definePlugin({ name: "fixed-backend", needs: [], setup: (ctx) => ctx.provideBackend(backend) });
}
