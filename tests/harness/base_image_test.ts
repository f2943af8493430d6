import assert from "node:assert/strict";
// @ts-types="npm:@types/dockerode@4.0.2"
import Docker from "dockerode";
import { BASE_IMAGE, ensureBaseImage } from "../../scripts/build_base_image.ts";
import { startPodman } from "./podman.ts";

Deno.test("the offline Debian base image runs a container through the Docker API (podman)", async () => {
  const service = await startPodman();
  try {
    assert.equal(await ensureBaseImage(service.env), BASE_IMAGE);
    const docker = new Docker({ socketPath: service.socketPath });
    const container = await docker.createContainer({
      Image: BASE_IMAGE,
      Cmd: ["sh", "-c", "echo debian $(cut -d. -f1 /etc/debian_version)"],
      Labels: { "managed-by": "claworc-test" },
      HostConfig: { SecurityOpt: ["no-new-privileges"], CapDrop: ["ALL"] },
    });
    try {
      await container.start();
      const result = await container.wait();
      assert.equal(result.StatusCode, 0);
      const logs = (await container.logs({ stdout: true, stderr: true })).toString();
      assert.match(logs, /debian 12/);
    } finally {
      await container.remove({ force: true });
    }
  } finally {
    await service.stop();
  }
});
