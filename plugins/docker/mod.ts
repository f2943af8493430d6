import { AppError, definePlugin } from "../../core/mod.ts";
import type { DockerBackend } from "./backend.ts";
import { type DockerBackendOptions, dockerDefaults } from "./options.ts";

/** Where engines usually listen, tried in order when `CLAWORC_DOCKER_SOCKET` is `auto`. */
export const SOCKET_CANDIDATES = ["/var/run/docker.sock", "/run/podman/podman.sock"];

/** The socket path of a `unix://` DOCKER_HOST (other schemes are not supported). */
function dockerHostSocket(): string | undefined {
  const host = Deno.env.get("DOCKER_HOST");
  return host?.startsWith("unix://") ? host.slice("unix://".length) : undefined;
}

/** Whether `path` exists; a path this program's permissions do not cover says so, naming the allowed ones. */
async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotCapable) {
      throw new AppError(
        "ENGINE_ERROR",
        `The engine socket ${path} is outside the paths Claworc may open (${SOCKET_CANDIDATES.join(", ")}). ` +
          `Link it to one of them, e.g. ln -s ${path} ${SOCKET_CANDIDATES[1]} (docs/release.md).`,
      );
    }
    return false;
  }
}

/**
 * The docker runtime backend as a plugin. With an explicit socket (`CLAWORC_DOCKER_SOCKET` or the
 * `socketPath` option) it registers when that socket exists; with `auto` (the default) it takes the
 * first of DOCKER_HOST and the usual sockets that answers. With none, the control plane still starts
 * and `/health` says `backend: "none"`. With an attach container (the control plane runs in a container
 * on that engine), `ready` connects it to the networks of existing instances, and `/health` reports
 * whether that container is known (`checks["docker.attach"]`).
 */
export function dockerPlugin(options: Partial<DockerBackendOptions> = {}) {
  let backend: DockerBackend | undefined;
  return definePlugin({
    name: "docker",
    needs: [],
    async setup(ctx) {
      const wanted = options.socketPath ?? ctx.config.dockerSocket;
      if (!wanted || (!options.socketPath && ctx.config.runtime === "kubernetes")) return;
      // The engine client (dockerode and its HTTP stack) is loaded only once a socket is there.
      const make = async (socketPath: string) => {
        const { DockerBackend } = await import("./backend.ts");
        return new DockerBackend({
          ...dockerDefaults,
          subnetPool: ctx.config.dockerSubnetPool,
          attachContainer: ctx.config.dockerAttachContainer,
          ...options,
          socketPath,
        });
      };
      if (wanted !== "auto") {
        if (await exists(wanted)) backend = await make(wanted);
      } else {
        for (const candidate of [dockerHostSocket(), ...SOCKET_CANDIDATES]) {
          if (!candidate || !await exists(candidate)) continue;
          const found = await make(candidate);
          if (await found.available()) {
            backend = found;
            break;
          }
        }
      }
      if (!backend) {
        ctx.log.info("no container engine socket; the docker backend is off", { socket: wanted });
        return;
      }
      ctx.log.info("container engine", { socket: backend.location });
      ctx.provideBackend(backend);
      const engine = backend;
      ctx.healthCheck("engine", () => engine.available());
      const attachment = engine.attachment;
      if (attachment) {
        ctx.log.info("attaching the control plane's container to instance networks", {
          container: attachment.container,
        });
        ctx.healthCheck("attach", () => attachment.networks().then(() => true, () => false));
      }
    },
    /** Before instances are adopted: a recreated control plane container must reach the old ones. */
    async ready(ctx) {
      if (!backend?.attachment) return;
      try {
        const joined = await backend.attachExisting();
        if (joined.length) ctx.log.info("joined existing instance networks", { networks: joined });
      } catch (e) {
        // Not fatal: creating or reaching an instance fails with the same message until it is fixed.
        ctx.log.error("could not attach to instance networks", { error: (e as Error).message });
      }
    },
  });
}
