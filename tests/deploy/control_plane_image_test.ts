import assert from "node:assert/strict";
// @ts-types="npm:@types/dockerode@4.0.2"
import Docker from "dockerode";
import type { IDeployment } from "kubernetes-models/apps/v1/Deployment";
import { controlPlaneObjects, PORT, RUN_AS } from "../../core/kube_manifests/manifests.ts";
import { DATA_MOUNT } from "../../core/kube_manifests/container_command.ts";
import { manifestDefaults } from "../../core/kube_manifests/options.ts";
import { buildControlPlaneImage } from "../../scripts/build_control_plane_image.ts";
import { startPodman } from "../harness/podman.ts";
import { until } from "../harness/pool.ts";
import { podmanTest } from "../harness/podman_available.ts";

/** A Fernet key: 32 random bytes, url-safe base64 (44 characters). */
function fernetKey(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32)))).replaceAll("+", "-")
    .replaceAll("/", "_");
}

/** The command and args of the generated Deployment's container (what a pod runs). */
function deploymentCommand(): { command: string[]; args: string[] } {
  const deployment = controlPlaneObjects(manifestDefaults).find((o): o is IDeployment => o.kind === "Deployment");
  const container = deployment?.spec?.template.spec?.containers[0];
  assert.ok(container?.command && container.args, "the Deployment has a command");
  return { command: container.command, args: container.args };
}

Deno.test({
  name:
    "the control plane image serves /health and the built islands with the manifests' command, read-only, as UID 1000",
  ...podmanTest,
  async fn() {
    const service = await startPodman();
    const docker = new Docker({ socketPath: service.socketPath });
    const volumeName = `claworc-cp-test-${crypto.randomUUID().slice(0, 8)}`;
    let container: Docker.Container | undefined;
    try {
      const image = await buildControlPlaneImage(undefined, service.env);
      const { command, args } = deploymentCommand();
      // The image's own default command is the manifests' one, so `podman run IMAGE` behaves like the pod.
      const imageInfo = await docker.getImage(image).inspect();
      assert.deepEqual(imageInfo.Config.Cmd, [...command, ...args], "deploy/Dockerfile's CMD is the pod's command");

      await docker.createVolume({ Name: volumeName, Labels: { "managed-by": "claworc-test" } });
      container = await docker.createContainer({
        Image: image,
        Entrypoint: command,
        Cmd: args,
        User: `${RUN_AS}:${RUN_AS}`,
        Labels: { "managed-by": "claworc-test" },
        Env: [
          "CLAWORC_HOST=0.0.0.0",
          `CLAWORC_PORT=${PORT}`,
          `CLAWORC_SECRET_KEY=${fernetKey()}`,
          "CLAWORC_DOCKER_SOCKET=none",
          "DENO_NO_UPDATE_CHECK=1",
        ],
        HostConfig: {
          ReadonlyRootfs: true,
          Binds: [`${volumeName}:${DATA_MOUNT}`],
          Tmpfs: { "/tmp": "rw,size=256m" },
          CapDrop: ["ALL"],
          SecurityOpt: ["no-new-privileges"],
        },
      });
      await container.start();
      const info = await container.inspect();
      assert.equal(info.HostConfig.ReadonlyRootfs, true);
      const ip = Object.values(info.NetworkSettings.Networks ?? {})[0]?.IPAddress;
      assert.ok(ip, "the container has an address");
      const base = `http://${ip}:${PORT}`;

      let health: Response | undefined;
      try {
        await until(
          async () => {
            if ((await container!.inspect()).State.Running === false) throw new Error("the container stopped");
            health = await fetch(`${base}/health`).catch(() => undefined);
            return health !== undefined;
          },
          60_000,
          "the control plane answering /health",
        );
      } catch (e) {
        const logs = await container.logs({ stdout: true, stderr: true }).catch(() => "");
        throw new Error(`${(e as Error).message}\n--- container logs ---\n${logs}`);
      }
      assert.equal(health!.status, 200);
      assert.match(health!.headers.get("content-type") ?? "", /application\/json/);
      const body = await health!.json();
      assert.equal(body.status, "healthy");
      assert.equal(body.database, "ok");
      assert.equal(body.backend, "none");

      const login = await fetch(`${base}/login`);
      assert.equal(login.status, 200);
      const html = await login.text();
      assert.match(login.headers.get("content-type") ?? "", /text\/html/);
      const scripts = [...html.matchAll(/\/static\/build\/[\w.-]+\.js/g)].map((m) => m[0]);
      assert.ok(scripts.length > 0, `the login page references /static/build/: ${html.slice(0, 500)}`);
      const island = await fetch(`${base}${scripts[0]}`);
      assert.equal(island.status, 200, `${scripts[0]} is served`);
      assert.match(island.headers.get("content-type") ?? "", /javascript/);
      assert.ok((await island.text()).length > 0);

      // Nothing but the data volume (and /tmp) was writable: the database is in the data folder.
      const exec = await container.exec({
        Cmd: ["sh", "-c", "touch /app/x 2>/dev/null && echo writable; ls /var/lib/claworc/data; id -u"],
        AttachStdout: true,
        AttachStderr: true,
      });
      const out = await new Promise<string>((resolve, reject) => {
        exec.start({}, (err, stream) => {
          if (err || !stream) return reject(err);
          const chunks: Buffer[] = [];
          stream.on("data", (d: Buffer) => chunks.push(d));
          stream.on("end", () => resolve(Buffer.concat(chunks).toString("latin1")));
        });
      });
      assert.ok(!out.includes("writable"), `the root filesystem is read-only: ${out}`);
      assert.match(out, new RegExp(`\\b${RUN_AS}\\b`), `runs as UID ${RUN_AS}: ${out}`);
    } finally {
      if (container) await container.remove({ force: true, v: true }).catch(() => {});
      await docker.getVolume(volumeName).remove({ force: true }).catch(() => {});
      await service.stop();
    }
  },
});
