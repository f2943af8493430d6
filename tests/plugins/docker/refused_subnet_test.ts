import assert from "node:assert/strict";
import { DockerBackend, dockerDefaults } from "../../../plugins/docker/backend.ts";
import { buildAgentImage } from "../../../scripts/build_agent_image.ts";
import { startPodman } from "../../harness/podman.ts";
import { podmanTest } from "../../harness/podman_available.ts";
import { agentSpec } from "./_agent_spec.ts";

async function ip(...args: string[]): Promise<void> {
  const out = await new Deno.Command("ip", { args, stdout: "null", stderr: "piped" }).output();
  if (!out.success) throw new Error(`ip ${args.join(" ")}: ${new TextDecoder().decode(out.stderr).trim()}`);
}

Deno.test({
  name:
    "docker backend on Podman: subnets the host already uses (a bridge left by an interrupted engine) are skipped, however many in a row",
  ...podmanTest,
  async fn() {
    const service = await startPodman();
    const tag = crypto.randomUUID().slice(0, 6);
    const third = 1 + crypto.getRandomValues(new Uint8Array(1))[0] % 250;
    // A pool of its own (16 blocks of /28), so no other test's networks are in it.
    const backend = new DockerBackend({
      ...dockerDefaults,
      socketPath: service.socketPath,
      network: `claworc-rs-${tag}`,
      subnetPool: `10.214.${third}.0/24`,
      subnetPrefix: 28,
    });
    const name = `bot-rs-${tag}`;
    const bridge = `cw${tag}`;
    try {
      await buildAgentImage(undefined, service.env);
      // Instance 1 starts looking at block 1; the host holds blocks 1 to 6 on a bridge no engine knows.
      await ip("link", "add", bridge, "type", "bridge");
      for (let block = 1; block <= 6; block++) {
        await ip("addr", "add", `10.214.${third}.${block * 16 + 1}/28`, "dev", bridge);
      }
      await backend.createWorkload(agentSpec(1, name));
      const network = await backend.docker.getNetwork(backend.networkOf(name)).inspect();
      assert.deepEqual(network.IPAM?.Config?.map((c) => c.Subnet), [`10.214.${third}.112/28`]);
    } finally {
      await backend.remove(name).catch(() => {});
      await ip("link", "del", bridge).catch(() => {});
      await service.stop();
    }
  },
});
