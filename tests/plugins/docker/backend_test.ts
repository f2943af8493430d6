import assert from "node:assert/strict";
import { authorizedLine } from "../../../core/ssh/authorized_line.ts";
import { generateKeyPair } from "../../../core/ssh/key_store.ts";
import { DockerBackend, dockerDefaults } from "../../../plugins/docker/backend.ts";
import { AGENT_IMAGE, buildAgentImage } from "../../../scripts/build_agent_image.ts";
import { startPodman } from "../../harness/podman.ts";
import { poolFixture, until } from "../../harness/pool.ts";

Deno.test({
  name: "docker backend on Podman: create, SSH in, stop/start keeps the home volume, remove leaves nothing",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const service = await startPodman();
    const f = await poolFixture({ limits: { maxAttempts: 1000, failuresToBlock: 1000 } });
    const tag = crypto.randomUUID().slice(0, 6);
    const network = `claworc-test-${tag}`;
    const backend = new DockerBackend({ ...dockerDefaults, socketPath: service.socketPath, network });
    const name = `bot-dk-${tag}`;
    const token = crypto.randomUUID();
    try {
      await buildAgentImage(undefined, service.env);
      assert.equal(await backend.available(), true);
      const hostKey = generateKeyPair("agent-host");
      const spec = {
        id: 1,
        name,
        image: AGENT_IMAGE,
        cpuRequest: "500m",
        cpuLimit: "1",
        memoryRequest: "512Mi",
        memoryLimit: "2Gi",
        files: {
          host_key: hostKey.privateKey,
          authorized_keys: authorizedLine(f.keys.publicKey, f.pool.targets) + "\n",
          gateway_token: token,
        },
        volumes: { home: "1Gi" },
      };
      await backend.createVolumes(spec);
      await backend.createWorkload(spec);
      assert.equal((await backend.status(name)).status, "creating");
      assert.deepEqual(
        (await backend.list()).filter((c) => c.name === name).map((c) => [c.instanceId, c.state.status]),
        [[1, "creating"]],
        "listed by label with its instance id",
      );
      const inspect = await backend.docker.getContainer(name).inspect();
      assert.ok(!JSON.stringify(inspect).includes(token), "the gateway token is not in inspect output");
      const volume = await backend.docker.getVolume(`claworc-${name}-home`).inspect();
      assert.equal(volume.Labels?.["claworc.instance"], name, "the home volume is labelled for its instance");
      assert.equal(inspect.HostConfig.Privileged, false);

      await backend.start(name);
      assert.equal((await backend.status(name)).status, "running");
      const endpoint = await backend.sshEndpoint(name);
      f.endpoints.set(1, { ...endpoint, hostKey: hostKey.publicKey });
      await until(async () => (await f.pool.reconnect(1, 1)).status === "ok", 30_000, "sshd answering");
      await f.pool.exec(1, "echo kept > ~/workspace/note.txt");
      // Docker reports CapDrop ["ALL"], Podman the expanded list: check the kernel's bounding set instead.
      const bounding = BigInt("0x" + (await f.pool.exec(1, "awk '/CapBnd/ {print $2}' /proc/1/status")).stdout.trim());
      for (
        const [cap, bit] of [["SYS_ADMIN", 21n], ["NET_ADMIN", 12n], ["SYS_PTRACE", 19n], ["SYS_MODULE", 16n], [
          "SETPCAP",
          8n,
        ]] as const
      ) {
        assert.equal((bounding >> bit) & 1n, 0n, `${cap} is dropped`);
      }
      assert.equal((bounding >> 6n) & 1n, 1n, "SETGID kept for sshd");

      f.pool.stop(1);
      await backend.stop(name);
      assert.equal((await backend.status(name)).status, "stopped");
      await backend.start(name);
      f.endpoints.set(1, { ...(await backend.sshEndpoint(name)), hostKey: hostKey.publicKey });
      await until(async () => (await f.pool.reconnect(1, 1)).status === "ok", 30_000, "sshd answering after restart");
      assert.equal((await f.pool.exec(1, "cat ~/workspace/note.txt")).stdout, "kept\n", "data on the volume survived");
      assert.match(await backend.logs(name, 50), /./s);

      f.pool.stop(1);
      // Another instance's volume must survive (Podman ORs label filters; the backend filters again).
      const other = `claworc-bot-other-${tag}-home`;
      await backend.docker.createVolume({
        Name: other,
        Labels: { "managed-by": "claworc", "claworc.instance": `bot-other-${tag}` },
      });
      await backend.remove(name);
      assert.ok(
        (await backend.docker.listVolumes()).Volumes.some((v) => v.Name === other),
        "another instance's volume is kept",
      );
      await backend.docker.getVolume(other).remove();
      assert.equal((await backend.status(name)).status, "missing");
      const left = (await backend.docker.listVolumes()).Volumes.filter((v) => v.Name.includes(name));
      assert.deepEqual(left, [], "no volume left behind");
      assert.equal(
        (await backend.docker.listNetworks()).filter((n) => n.Name === backend.networkOf(name)).length,
        0,
        "its network is gone too",
      );
      await assert.rejects(backend.start(name), (e: Error & { code?: string }) => e.code === "INSTANCE_NOT_FOUND");
    } finally {
      await backend.remove(name).catch(() => {});
      await backend.docker.getNetwork(backend.networkOf(name)).remove().catch(() => {});
      await f.close();
      await service.stop();
    }
  },
});
