import assert from "node:assert/strict";
// @ts-types="npm:@types/dockerode@4.0.2"
import Docker from "dockerode";
import { DATA_MOUNT, podCommand, SERVICE_ACCOUNT_DIR } from "../../core/kube_manifests/container_command.ts";
import { PORT, RUN_AS } from "../../core/kube_manifests/manifests.ts";
import { DockerBackend, dockerDefaults } from "../../plugins/docker/backend.ts";
import { demuxLog } from "../../plugins/docker/demux.ts";
import { AGENT_IMAGE, buildAgentImage } from "../../scripts/build_agent_image.ts";
import { buildControlPlaneImage, CONTROL_PLANE_IMAGE } from "../../scripts/build_control_plane_image.ts";
import { withImageLock } from "../../scripts/image_lock.ts";
import { podman, startPodman } from "../harness/podman.ts";
import { until } from "../harness/pool.ts";
import { createOptions, interpolate, readComposeFile } from "./compose_service.ts";
import { podmanTest } from "../harness/podman_available.ts";

/** Where the compose file mounts the engine socket, and what it tells the control plane. */
const SOCKET = "/var/run/docker.sock";
/** The group the test gives the engine socket, as Docker's `docker` group owns /var/run/docker.sock. */
const SOCKET_GID = "4713";

/** A Fernet key: 32 random bytes, url-safe base64 (44 characters). */
function fernetKey(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32)))).replaceAll("+", "-")
    .replaceAll("/", "_");
}

/** Runs `cmd` in a container; its output and exit code. */
async function exec(docker: Docker, container: string, cmd: string[]): Promise<{ out: string; code: number }> {
  const e = await docker.getContainer(container).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const out = await new Promise<string>((resolve, reject) => {
    e.start({}, (err, stream) => {
      if (err || !stream) return reject(err);
      const chunks: Buffer[] = [];
      stream.on("data", (d: Buffer) => chunks.push(d));
      stream.on("end", () => resolve(demuxLog(Buffer.concat(chunks))));
    });
  });
  return { out, code: (await e.inspect()).ExitCode ?? -1 };
}

/** An IPv4 address as /proc/net/tcp writes it (little-endian hex). */
const procHex = (ip: string) =>
  ip.split(".").map((o) => Number(o).toString(16).padStart(2, "0").toUpperCase()).reverse().join("");

Deno.test("deploy/docker-compose.yml: the service mounts the socket it names, attaches itself, runs as UID 1000", async () => {
  const { service: s, volumes } = await readComposeFile();
  assert.equal(s.environment.CLAWORC_DOCKER_ATTACH_CONTAINER, s.container_name, "the attach variable is its own name");
  assert.equal(s.environment.CLAWORC_DOCKER_SOCKET, SOCKET);
  assert.ok(s.volumes.some((v) => v.endsWith(`:${SOCKET}`)), "the engine socket is mounted where it is named");
  assert.equal(interpolate(s.volumes.find((v) => v.endsWith(`:${SOCKET}`))!, {}), `${SOCKET}:${SOCKET}`);
  assert.equal(s.user, `${RUN_AS}:${RUN_AS}`);
  assert.throws(() => s.group_add.map((g) => interpolate(g, {})), /DOCKER_GID/, "the socket's group is required");
  assert.deepEqual(s.group_add.map((g) => interpolate(g, { DOCKER_GID: "999" })), ["999"]);
  assert.equal(interpolate(s.image, {}), CONTROL_PLANE_IMAGE, "the image the build script makes");
  assert.equal(interpolate(s.environment.CLAWORC_AGENT_IMAGE, {}), AGENT_IMAGE, "the image build:agent makes");
  assert.deepEqual(volumes.map((v) => s.volumes.includes(`${v}:${DATA_MOUNT}`)), [true], "a named data volume");
  assert.ok(s.ports.some((p) => p.endsWith(`:${PORT}`)), `port ${PORT} is published`);
  assert.equal(s.env_file, "claworc.env");
  assert.equal(s.restart, "unless-stopped");
  // The pod's command, with the engine socket in place of the service account token (which a pod reads).
  const { command, args } = podCommand();
  const expected = [...command, ...args].map((flag) =>
    flag.startsWith("--allow-read=")
      ? flag.replace(SERVICE_ACCOUNT_DIR, SOCKET)
      : flag.startsWith("--allow-write=")
      ? `${flag},${SOCKET}`
      : flag
  );
  assert.deepEqual(s.command, expected);
});

Deno.test({
  name:
    "docker compose on Podman: the containerised control plane reaches a new instance over SSH by its container address, again after being recreated, and leaves its network on delete",
  ...podmanTest,
  async fn() {
    const started = performance.now();
    const service = await startPodman();
    const docker = new Docker({ socketPath: service.socketPath });
    const tag = crypto.randomUUID().slice(0, 6);
    const cpName = `claworc-compose-${tag}`;
    const volumeName = `claworc-compose-data-${tag}`;
    // A tag of its own: other tests may rebuild localhost/claworc:dev meanwhile (the layers are shared).
    const imageTag = `localhost/claworc:compose-${tag}`;
    // The host's view of the same engine, to check and clean up (same network prefix as the compose default).
    const host = new DockerBackend({ ...dockerDefaults, socketPath: service.socketPath });
    let instanceName = "";
    try {
      await buildAgentImage(undefined, service.env);
      const image = await buildControlPlaneImage(imageTag, service.env);
      const built = performance.now();

      // The socket as Docker ships it: root, a group of its own, 0660. Only group_add lets UID 1000 in.
      await Deno.chown(service.socketPath, 0, Number(SOCKET_GID));
      await Deno.chmod(service.socketPath, 0o660);

      const { service: s } = await readComposeFile();
      // Podman's Docker API leaves the image's healthcheck out of its inspect output; its own CLI has it.
      const imageHealth = JSON.parse(
        await podman(["image", "inspect", "--format", "{{json .Config.Healthcheck}}", image], service.env),
      );
      assert.deepEqual(imageHealth?.Test, s.healthcheck.test, "the compose healthcheck is the image's");
      const options = createOptions(
        s,
        { DOCKER_GID: SOCKET_GID, DOCKER_SOCKET: service.socketPath, CLAWORC_IMAGE: image },
        { CLAWORC_SECRET_KEY: fernetKey() },
        { "claworc-data": volumeName },
      );
      // A name of its own (tests may run side by side), and the attach variable follows it as in the file.
      options.name = cpName;
      options.Env = options.Env!.map((e) =>
        e.startsWith("CLAWORC_DOCKER_ATTACH_CONTAINER=") ? `CLAWORC_DOCKER_ATTACH_CONTAINER=${cpName}` : e
      );
      options.Labels = { "managed-by": "claworc-test" };
      assert.equal(options.Image, image);
      await docker.createVolume({ Name: volumeName, Labels: { "managed-by": "claworc-test" } });

      /** Starts the control plane container; its URL once /health says the engine and attachment are fine. */
      const startControlPlane = async (): Promise<string> => {
        const container = await docker.createContainer(options);
        await container.start();
        const ip = Object.values((await container.inspect()).NetworkSettings.Networks ?? {})[0]?.IPAddress;
        assert.ok(ip, "the control plane has an address");
        const base = `http://${ip}:${PORT}`;
        let body: Record<string, unknown> = {};
        try {
          await until(
            async () => {
              if ((await container.inspect()).State.Running === false) throw new Error("the container stopped");
              const r = await fetch(`${base}/health`).catch(() => undefined);
              body = r ? await r.json() : {};
              return r?.status === 200;
            },
            60_000,
            "the control plane healthy",
          );
        } catch (e) {
          const logs = await container.logs({ stdout: true, stderr: true }).catch(() => "");
          throw new Error(`${(e as Error).message}: ${JSON.stringify(body)}\n--- logs ---\n${logs}`);
        }
        assert.equal(body.backend, "docker");
        assert.deepEqual(body.checks, { "docker.engine": true, "docker.attach": true });
        return base;
      };

      let base = await startControlPlane();
      // The image's healthcheck, as the engine runs it: exit 0 against the running control plane.
      const probe = await exec(docker, cpName, s.healthcheck.test.slice(1));
      assert.equal(probe.code, 0, `healthcheck: ${probe.out}`);
      const id = (await exec(docker, cpName, ["id"])).out;
      assert.match(id, new RegExp(`uid=${RUN_AS}\\b.*groups=.*\\b${SOCKET_GID}\\b`), id);

      const call = (method: string, path: string, cookie: string, body?: unknown) =>
        fetch(`${base}${path}`, {
          method,
          headers: { origin: base, cookie, ...(body ? { "content-type": "application/json" } : {}) },
          body: body ? JSON.stringify(body) : undefined,
        });
      const setup = await call("POST", "/api/v1/auth/setup", "", { username: "admin", password: "admin-password-1" });
      assert.equal(setup.status, 201, await setup.clone().text());
      const cookie = setup.headers.getSetCookie()[0].split(";")[0];

      const created = await call("POST", "/api/v1/instances", cookie, { display_name: `Compose ${tag}` });
      assert.equal(created.status, 201, await created.clone().text());
      const { id: instanceId, name } = await created.json();
      instanceName = name;
      const network = host.networkOf(name);

      const sshConnected = () =>
        until(
          async () => {
            const r = await call("GET", `/api/v1/instances/${instanceId}/ssh-status`, cookie);
            return (await r.json()).state === "connected";
          },
          120_000,
          "SSH connected from the containerised control plane",
        );
      await sshConnected();
      const connected = performance.now();
      let op: { state: string; steps: unknown } = { state: "running", steps: [] };
      await until(
        async () => {
          op = await (await call("GET", `/api/v1/instances/${instanceId}/operation`, cookie)).json();
          return op.state !== "running";
        },
        120_000,
        "the create operation to end",
      );
      assert.equal(op.state, "succeeded", JSON.stringify(op.steps));

      /** The control plane's SSH connection, seen from inside the instance: from its address on the network. */
      const assertReachedByContainerAddress = async () => {
        const cpNet = (await docker.getContainer(cpName).inspect()).NetworkSettings.Networks[network];
        assert.ok(cpNet?.IPAddress, `the control plane container is on ${network}`);
        const instNet = (await docker.getContainer(name).inspect()).NetworkSettings.Networks[network];
        const test = await (await call("GET", `/api/v1/instances/${instanceId}/ssh-test`, cookie)).json();
        assert.equal(test.status, "ok", JSON.stringify(test));
        const tcp = (await exec(docker, name, ["cat", "/proc/net/tcp"])).out;
        const sshd = `${procHex(instNet.IPAddress)}:0016 ${procHex(cpNet.IPAddress)}:[0-9A-F]{4} 01`;
        assert.match(tcp, new RegExp(sshd), `sshd ${instNet.IPAddress}:22 ← ${cpNet.IPAddress} established`);
      };
      await assertReachedByContainerAddress();
      // On the instance's network too, yet no router between networks: the container forwards nothing.
      const forwarding = await exec(docker, cpName, ["sh", "-c", "cat /proc/sys/net/ipv4/conf/*/forwarding"]);
      assert.match(forwarding.out, /^(0\n)+$/, `forwarding per interface: ${forwarding.out}`);

      // Recreated (an upgrade, `docker compose up --force-recreate`): the new container is on no instance
      // network until start-up joins the existing ones, then SSH reconnects.
      await docker.getContainer(cpName).remove({ force: true });
      base = await startControlPlane();
      await sshConnected();
      await assertReachedByContainerAddress();

      const deleted = await call("DELETE", `/api/v1/instances/${instanceId}`, cookie);
      assert.equal(deleted.status, 204, await deleted.text());
      const cpNets = Object.keys((await docker.getContainer(cpName).inspect()).NetworkSettings.Networks ?? {});
      assert.ok(!cpNets.includes(network), `the control plane left ${network}: ${cpNets}`);
      assert.deepEqual((await docker.listNetworks()).filter((n) => n.Name === network), [], "its network is gone");
      assert.equal((await host.status(name)).status, "missing");
      instanceName = "";
      const done = performance.now();
      console.log(
        `images ${Math.round((built - started) / 1000)} s; control plane up → SSH connected ${
          Math.round((connected - built) / 1000)
        } s; total ${Math.round((done - started) / 1000)} s`,
      );
    } finally {
      await docker.getContainer(cpName).remove({ force: true }).catch(() => {});
      if (instanceName) await host.remove(instanceName).catch(() => {});
      await docker.getVolume(volumeName).remove({ force: true }).catch(() => {});
      await withImageLock(service.env, () => podman(["rmi", imageTag], service.env)).catch(() => {});
      await service.stop();
    }
  },
});
