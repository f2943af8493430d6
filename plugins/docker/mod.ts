import { definePlugin } from "../../core/mod.ts";
import { DockerBackend, type DockerBackendOptions, dockerDefaults } from "./backend.ts";

/**
 * The docker runtime backend as a plugin. It registers only when the engine's socket exists
 * (`CLAWORC_DOCKER_SOCKET`, default /var/run/docker.sock), so a control plane without Docker still
 * starts and `/health` says `backend: "none"`.
 */
export function dockerPlugin(options: Partial<DockerBackendOptions> = {}) {
  return definePlugin({
    name: "docker",
    needs: [],
    async setup(ctx) {
      const socketPath = options.socketPath ?? ctx.config.dockerSocket;
      if (!socketPath) return;
      const exists = await Deno.stat(socketPath).then(() => true, () => false);
      if (!exists) {
        ctx.log.info("no container engine socket; the docker backend is off", { socket: socketPath });
        return;
      }
      const backend = new DockerBackend({
        ...dockerDefaults,
        subnetPool: ctx.config.dockerSubnetPool,
        ...options,
        socketPath,
      });
      ctx.provideBackend(backend);
      ctx.healthCheck("engine", () => backend.available());
    },
  });
}
