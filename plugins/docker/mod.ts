import { definePlugin } from "../../core/mod.ts";
import type { DockerBackend } from "./backend.ts";
import { type DockerBackendOptions, dockerDefaults } from "./options.ts";

/** Where engines usually listen, tried in order when `CLAWORC_DOCKER_SOCKET` is `auto`. */
export const SOCKET_CANDIDATES = ["/var/run/docker.sock", "/run/podman/podman.sock"];

/** The socket path of a `unix://` DOCKER_HOST (other schemes are not supported). */
function dockerHostSocket(): string | undefined {
  const host = Deno.env.get("DOCKER_HOST");
  return host?.startsWith("unix://") ? host.slice("unix://".length) : undefined;
}

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

/**
 * The docker runtime backend as a plugin. With an explicit socket (`CLAWORC_DOCKER_SOCKET` or the
 * `socketPath` option) it registers when that socket exists; with `auto` (the default) it takes the
 * first of DOCKER_HOST and the usual sockets that answers. With none, the control plane still starts
 * and `/health` says `backend: "none"`.
 */
export function dockerPlugin(options: Partial<DockerBackendOptions> = {}) {
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
          ...options,
          socketPath,
        });
      };
      let backend: DockerBackend | undefined;
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
      ctx.healthCheck("engine", () => backend.available());
    },
  });
}
