import assert from "node:assert/strict";
// @ts-types="npm:@types/dockerode@4.0.2"
import Docker from "dockerode";
import { startPodman } from "./podman.ts";

Deno.test("podman serves the Docker API on a private socket that dockerode can use", async () => {
  const service = await startPodman();
  try {
    const docker = new Docker({ socketPath: service.socketPath });
    const version = await docker.version();
    assert.match(String(version.ApiVersion), /^1\.\d+/);
    assert.ok(Array.isArray(await docker.listContainers({ all: true })));
    const volume = await docker.createVolume({
      Name: `claworc-probe-${crypto.randomUUID().slice(0, 8)}`,
      Labels: { "managed-by": "claworc-test" },
    });
    const name = volume.name;
    const found = await docker.listVolumes({ filters: { label: ["managed-by=claworc-test"] } });
    assert.ok(found.Volumes.some((v) => v.Name === name));
    await docker.getVolume(name).remove();
  } finally {
    await service.stop();
  }
});
