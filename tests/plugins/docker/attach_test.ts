import assert from "node:assert/strict";
// @ts-types="npm:@types/dockerode@4.0.2"
import type Docker from "dockerode";
import { AppError } from "../../../core/errors.ts";
import { DockerBackend, dockerDefaults } from "../../../plugins/docker/backend.ts";
import { demuxLog } from "../../../plugins/docker/demux.ts";
import { dockerPlugin } from "../../../plugins/docker/mod.ts";
import { buildAgentImage } from "../../../scripts/build_agent_image.ts";
import { ensureBaseImage } from "../../../scripts/build_base_image.ts";
import { testApp } from "../../_helpers/harness.ts";
import { startPodman } from "../../harness/podman.ts";
import { podmanTest } from "../../harness/podman_available.ts";
import { agentSpec } from "./_agent_spec.ts";

const networksOf = async (docker: Docker, container: string) =>
  Object.keys((await docker.getContainer(container).inspect()).NetworkSettings.Networks ?? {});

/** Runs a shell command in `container` and returns its output. */
async function sh(docker: Docker, container: string, script: string): Promise<string> {
  const exec = await docker.getContainer(container).exec({
    Cmd: ["sh", "-c", script],
    AttachStdout: true,
    AttachStderr: true,
  });
  return await new Promise<string>((resolve, reject) => {
    exec.start({}, (err, stream) => {
      if (err || !stream) return reject(err);
      const chunks: Buffer[] = [];
      stream.on("data", (d: Buffer) => chunks.push(d));
      stream.on("end", () => resolve(demuxLog(Buffer.concat(chunks))));
    });
  });
}

Deno.test({
  name:
    "docker backend with an attach container: joins each instance network before the instance is reached, heals, adopts, leaves before removal; an unknown container is a clear error",
  ...podmanTest,
  async fn() {
    const service = await startPodman();
    const tag = crypto.randomUUID().slice(0, 6);
    const self = `claworc-self-${tag}`;
    const prefix = `claworc-at-${tag}`;
    const options = { ...dockerDefaults, socketPath: service.socketPath, network: prefix };
    const backend = new DockerBackend({ ...options, attachContainer: self });
    const docker = backend.docker;
    const name = `bot-at-${tag}`;
    const network = backend.networkOf(name);
    try {
      await buildAgentImage(undefined, service.env);
      // The stand-in control plane: any long-running container on the engine's default network.
      const base = await ensureBaseImage(service.env);
      const cp = await docker.createContainer({
        name: self,
        Image: base,
        Cmd: ["sleep", "infinity"],
        Labels: { "managed-by": "claworc-test" },
      });
      await cp.start();
      assert.ok(!(await networksOf(docker, self)).includes(network));

      // Create: connected to the instance's network as soon as it exists, before the container is made.
      await backend.createVolumes(agentSpec(7, name));
      await backend.createWorkload(agentSpec(7, name));
      assert.ok((await networksOf(docker, self)).includes(network), "joined the instance network on create");
      await backend.start(name);
      const { host } = await backend.sshEndpoint(name);
      // The instance's sshd answers the control plane's container through that network.
      const probe = `for i in $(seq 1 50); do timeout 1 bash -c 'exec 3<>/dev/tcp/${host}/22' 2>/dev/null && ` +
        `{ echo open; exit; }; sleep 0.2; done; echo closed`;
      assert.equal((await sh(docker, self, probe)).trim(), "open", `sshd at ${host}:22 reachable from ${self}`);

      // Disconnected behind Claworc's back: the next connection attempt (sshEndpoint) heals it.
      await docker.getNetwork(network).disconnect({ Container: self, Force: true });
      assert.ok(!(await networksOf(docker, self)).includes(network));
      await backend.sshEndpoint(name);
      assert.ok((await networksOf(docker, self)).includes(network), "sshEndpoint re-joined the network");
      // Connecting twice is not an error.
      await backend.attachment!.ensure(network);

      // A recreated control plane container is on no instance network: start-up joins the existing ones
      // of this backend's prefix only.
      await docker.getNetwork(network).disconnect({ Container: self, Force: true });
      assert.deepEqual(await backend.attachExisting(), [network]);
      assert.ok((await networksOf(docker, self)).includes(network), "attachExisting joined it");
      assert.deepEqual(await backend.attachExisting(), [], "nothing more to join");

      // Delete: the container leaves the network first, so the engine can remove it.
      await backend.remove(name);
      assert.ok(!(await networksOf(docker, self)).includes(network), "left the instance network");
      assert.equal((await docker.listNetworks()).filter((n) => n.Name === network).length, 0, "network removed");

      // An unknown container: a clear AppError on first use, never a raw engine error; removal still works.
      const missing = `claworc-missing-${tag}`;
      const wrong = new DockerBackend({ ...options, attachContainer: missing });
      const clear = (e: unknown) =>
        e instanceof AppError && e.code === "ENGINE_ERROR" &&
        e.message.includes(`CLAWORC_DOCKER_ATTACH_CONTAINER names "${missing}"`);
      await assert.rejects(wrong.attachExisting(), clear);
      await wrong.createVolumes(agentSpec(8, name));
      await assert.rejects(wrong.createWorkload(agentSpec(8, name)), clear);
      await wrong.remove(name);
      assert.equal((await docker.listNetworks()).filter((n) => n.Name === network).length, 0, "cleaned up");

      // Through the plugin: start-up does not fail, /health says what is wrong.
      const t = await testApp({ CLAWORC_DOCKER_ATTACH_CONTAINER: missing }, [
        dockerPlugin({ socketPath: service.socketPath, network: prefix }),
      ]);
      try {
        const health = await t.request("GET", "/health");
        assert.equal(health.status, 503);
        const body = await health.json();
        assert.deepEqual(body.checks, { "docker.engine": true, "docker.attach": false });
      } finally {
        await t.close();
      }
    } finally {
      await backend.remove(name).catch(() => {});
      await docker.getContainer(self).remove({ force: true }).catch(() => {});
      await service.stop();
    }
  },
});
