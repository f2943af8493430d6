import assert from "node:assert/strict";
import type { Operation } from "../../core/instances/operations.ts";
import { builtinPlugins } from "../../plugins/mod.ts";
import { dockerPlugin } from "../../plugins/docker/mod.ts";
import type { DockerBackend } from "../../plugins/docker/backend.ts";
import { AGENT_IMAGE, buildAgentImage } from "../../scripts/build_agent_image.ts";
import { withImageLock } from "../../scripts/image_lock.ts";
import { type TestApp, testApp } from "../_helpers/harness.ts";
import { podman, startPodman } from "../harness/podman.ts";
import { until } from "../harness/pool.ts";
import { readEvents } from "../harness/sse.ts";

let PODMAN_ENV: Record<string, string> = {};

/** Waits for the instance's operation to end; fails with its steps when it did not succeed. */
async function operationOutcome(t: TestApp, cookie: string, id: number): Promise<Operation> {
  let op: Operation | null = null;
  await until(
    async () => {
      op = await (await t.request("GET", `/api/v1/instances/${id}/operation`, { cookie })).json();
      return op !== null && op.state !== "running";
    },
    240_000,
    `operation of instance ${id} to end`,
  );
  const done = op! as Operation;
  if (done.state !== "succeeded") {
    const name = t.services.instances.get(id).name;
    const out = await new Deno.Command("podman", {
      args: ["exec", name, "sh", "-c", "supervisorctl status; tail -40 /var/log/claworc/openclaw.log"],
      env: PODMAN_ENV,
      stdout: "piped",
      stderr: "piped",
    }).output().catch(() => null);
    console.error(out ? new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr) : "no exec");
  }
  assert.equal(done.state, "succeeded", JSON.stringify(done.steps));
  return done;
}

/** Whether `fromId`'s container can open a TCP connection to host:port (bash /dev/tcp, 3 s timeout). */
async function canConnect(t: TestApp, fromId: number, host: string, port: number): Promise<boolean> {
  const r = await t.services.ssh.exec(
    fromId,
    `timeout 3 bash -c 'exec 3<>/dev/tcp/${host}/${port}' 2>/dev/null && echo open || echo closed`,
  );
  return r.stdout.trim() === "open";
}

Deno.test({
  name:
    "instances on Podman end to end: tracked create to chat-ready, live events, stop/start, clone, isolation, redeploy, resize, engine events, delete",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const service = await startPodman();
    PODMAN_ENV = service.env;
    await buildAgentImage(undefined, service.env);
    const tag = crypto.randomUUID().slice(0, 6);
    const network = `claworc-e2e-${tag}`;
    const names: string[] = [];
    const rebuilt = `localhost/claworc-agent:rebuilt-${tag}`;
    const t = await testApp(
      { CLAWORC_AGENT_IMAGE: AGENT_IMAGE },
      [
        ...builtinPlugins().filter((p) => p.name !== "docker"),
        dockerPlugin({ socketPath: service.socketPath, network }),
      ],
    );
    const backend = t.services.runtime.backend as DockerBackend;
    try {
      const admin = await t.setupAdmin();
      await t.services.lifecycle.attach();
      assert.equal((await (await t.request("GET", "/health")).json()).backend, "docker");
      const events = readEvents(await t.request("GET", "/api/v1/events", { cookie: admin }));

      // Create: 201 at once, then every step to chat-ready, pushed live.
      const started = performance.now();
      const res = await t.request("POST", "/api/v1/instances", {
        cookie: admin,
        body: { display_name: `Research Bot #${tag}`, cpu_limit: "1", memory_limit: "3Gi", vnc_resolution: "1024x768" },
      });
      assert.equal(res.status, 201);
      const created = await res.json();
      names.push(created.name);
      assert.equal(created.name, `bot-research-bot-${tag}`);
      assert.equal(created.status, "creating");
      assert.equal(created.operation.kind, "create");
      const id = created.id;
      const op = await operationOutcome(t, admin, id);
      console.log(
        `create → chat-ready in ${Math.round(performance.now() - started)} ms; steps ${
          op.steps.map((s) => `${s.name}=${s.duration_ms}ms`).join(" ")
        }`,
      );
      assert.deepEqual(op.steps.map((s) => [s.name, s.state]), [
        ["volumes", "done"],
        ["container", "done"],
        ["start", "done"],
        ["sshd", "done"],
        ["ssh", "done"],
        ["tunnels", "done"],
        ["gateway", "done"],
      ]);
      const got = await (await t.request("GET", `/api/v1/instances/${id}`, { cookie: admin })).json();
      assert.equal(got.status, "running");
      assert.equal(got.vnc_resolution, "1024x768");
      assert.equal(t.services.hostKeys.get(id)?.source, "backend", "host key pinned before connecting");
      const gatewayTunnel = t.services.ssh.status(id).tunnels.find((x) => x.label === "gateway");
      assert.equal(gatewayTunnel?.status, "healthy", JSON.stringify(gatewayTunnel));
      assert.match((await t.services.ssh.exec(id, "ps -eo args | grep [X]vfb")).stdout, /-screen 0 1024x768x24/);
      const listener = (await t.services.ssh.exec(id, "cat /proc/net/tcp")).stdout;
      assert.match(listener, /0100007F:4965 00000000:0000 0A/, "gateway listens on 127.0.0.1:18789 only");
      assert.doesNotMatch(listener, /00000000:4965 00000000:0000 0A/, "and not on every address");
      const inspect = await backend.docker.getContainer(created.name).inspect();
      const token = await t.services.secrets.decrypt(t.services.instances.gatewayToken(id));
      assert.ok(!JSON.stringify(inspect).includes(token), "the gateway token is not in inspect output");
      assert.equal(inspect.HostConfig.NanoCpus, 1e9);
      assert.equal(inspect.HostConfig.Memory, 3 * 1024 ** 3);
      await until(() => /event: operation[\s\S]*"state":"succeeded"/.test(events.text()), 5_000, "operation pushed");
      assert.match(
        events.text(),
        /event: instance\ndata: \{"id":\d+,"name":"bot-research-bot-[^"]+","display_name":"[^"]+","status":"running"/,
      );

      await t.services.ssh.exec(
        id,
        "echo survives > ~/workspace/keep.txt && echo profile > ~/.config/chromium/claworc-marker",
      );
      const dup = await t.request("POST", "/api/v1/instances", {
        cookie: admin,
        body: { display_name: `research bot ${tag}` },
      });
      assert.equal(dup.status, 409);

      // Stop keeps the volume; start brings the data back.
      assert.deepEqual(await (await t.request("POST", `/api/v1/instances/${id}/stop`, { cookie: admin })).json(), {
        status: "stopped",
      });
      assert.notEqual(t.services.ssh.status(id).state, "connected");
      assert.deepEqual(await (await t.request("POST", `/api/v1/instances/${id}/start`, { cookie: admin })).json(), {
        status: "running",
      });
      await until(() => t.services.ssh.status(id).state === "connected", 60_000, "SSH connected after start");
      assert.equal((await t.services.ssh.exec(id, "cat ~/workspace/keep.txt")).stdout, "survives\n");

      // Clone copies the data into a new instance on its own network.
      const cloneRes = await t.request("POST", `/api/v1/instances/${id}/clone`, { cookie: admin });
      assert.equal(cloneRes.status, 201);
      const clone = await cloneRes.json();
      names.push(clone.name);
      assert.equal(clone.display_name, `Research Bot #${tag} (Copy)`);
      await operationOutcome(t, admin, clone.id);
      assert.equal((await t.services.ssh.exec(clone.id, "cat ~/workspace/keep.txt")).stdout, "survives\n");
      const cloneToken = await t.services.secrets.decrypt(t.services.instances.gatewayToken(clone.id));
      assert.notEqual(cloneToken, token, "a clone gets its own gateway token");

      // Isolation: neither instance reaches the other's sshd, desktop or gateway; each reaches its own. First
      // tear down a container on another isolated network: on netavark 1.4 that deletes the engine's
      // isolation jump, so what is checked below is the instance's own filter, not the engine's luck.
      const scratch = `claworc-e2e-scratch-${tag}`;
      await backend.docker.createNetwork({ Name: scratch, Options: { isolate: "true" } });
      const helper = await backend.docker.createContainer({
        Image: AGENT_IMAGE,
        Entrypoint: ["/bin/true"],
        HostConfig: { NetworkMode: scratch },
      });
      await helper.start();
      await helper.wait();
      await helper.remove({ force: true });
      await backend.docker.getNetwork(scratch).remove();
      const ipOf = async (name: string) => (await backend.sshEndpoint(name)).host;
      const [ipA, ipB] = [await ipOf(created.name), await ipOf(clone.name)];
      assert.notEqual(ipA, ipB);
      assert.equal(await canConnect(t, id, "127.0.0.1", 22), true, "control: own sshd reachable");
      assert.equal(await canConnect(t, id, ipA, 22), true, "control: own address reachable");
      const subnets = async (name: string) =>
        JSON.stringify((await backend.docker.getNetwork(backend.networkOf(name)).inspect()).IPAM?.Config);
      console.log(`isolation check: A ${ipA} ${await subnets(created.name)}, B ${ipB} ${await subnets(clone.name)}`);
      for (const port of [22, 3000, 18789]) {
        assert.equal(await canConnect(t, id, ipB, port), false, `A cannot reach B:${port}`);
        assert.equal(await canConnect(t, clone.id, ipA, port), false, `B cannot reach A:${port}`);
      }

      // Redeploy onto a rebuilt image keeps every volume (workspace, browser profile, installed packages)
      // and pins the new host key.
      const context = await Deno.makeTempDir({ prefix: "claworc-rebuilt-" });
      await Deno.writeTextFile(`${context}/Containerfile`, `FROM ${AGENT_IMAGE}\nLABEL claworc.rebuilt="${tag}"\n`);
      await withImageLock(service.env, () => podman(["build", "-q", "-t", rebuilt, context], service.env));
      await Deno.remove(context, { recursive: true });
      assert.equal((await t.services.ssh.exec(id, "npm config get prefix")).stdout.trim(), "/home/agent/.local");
      await t.services.ssh.exec(
        id,
        "mkdir -p ~/.local/bin && printf '#!/bin/sh\\necho tool\\n' > ~/.local/bin/mytool && chmod +x ~/.local/bin/mytool",
      );
      const pinBefore = t.services.hostKeys.get(id)?.host_key;
      const redeploy = await t.request("POST", `/api/v1/instances/${id}/update-image`, {
        cookie: admin,
        body: { image: rebuilt },
      });
      assert.equal(redeploy.status, 202);
      assert.equal((await redeploy.json()).operation.kind, "redeploy");
      assert.equal(
        (await t.request("POST", `/api/v1/instances/${id}/stop`, { cookie: admin })).status,
        409,
        "one action at a time",
      );
      await operationOutcome(t, admin, id);
      assert.notEqual(t.services.hostKeys.get(id)?.host_key, pinBefore);
      assert.equal(
        (await t.services.ssh.exec(id, "cat ~/workspace/keep.txt ~/.config/chromium/claworc-marker")).stdout,
        "survives\nprofile\n",
      );
      assert.equal((await t.services.ssh.exec(id, "bash -lc mytool")).stdout, "tool\n", "installed tools survive");
      const redeployed = await backend.docker.getContainer(created.name).inspect();
      assert.equal(redeployed.Config.Labels?.["claworc.rebuilt"], tag, "runs the rebuilt image");
      assert.equal(t.services.instances.get(id).image, rebuilt);

      // Restart, then rename and resize (CPU/memory live where the engine allows).
      assert.deepEqual(await (await t.request("POST", `/api/v1/instances/${id}/restart`, { cookie: admin })).json(), {
        status: "running",
      });
      const put = await t.request("PUT", `/api/v1/instances/${id}`, {
        cookie: admin,
        body: { display_name: "Renamed", cpu_limit: "1500m" },
      });
      assert.equal(put.status, 200);
      const putBody = await put.json();
      assert.equal(putBody.display_name, "Renamed");
      assert.equal(putBody.cpu_limit, "1500m");
      if (!putBody.restart_required) {
        assert.equal((await backend.docker.getContainer(created.name).inspect()).HostConfig.NanoCpus, 1.5e9);
      }
      assert.equal(
        (await t.request("PUT", `/api/v1/instances/${id}`, { cookie: admin, body: { cpu_limit: "lots" } })).status,
        400,
      );

      // A container stopped behind Claworc's back: the engine's event reaches the row (and the stream).
      await backend.docker.getContainer(clone.name).stop({ t: 5 });
      const stoppedAt = performance.now();
      await until(
        () => t.services.instances.get(clone.id).status === "stopped",
        30_000,
        "stop seen from engine events",
      );
      console.log(
        `container stopped outside Claworc → row updated ${Math.round(performance.now() - stoppedAt)} ms later`,
      );
      await until(
        () => new RegExp(`"id":${clone.id},[^}]*"status":"stopped"`).test(events.text()),
        5_000,
        "stopped status pushed to the stream",
      );

      // A user who is not assigned sees nothing and can do nothing.
      await t.createUser(admin, "ursula");
      const userCookie = await t.login("ursula", "ursula-password-1");
      assert.deepEqual(await (await t.request("GET", "/api/v1/instances", { cookie: userCookie })).json(), []);
      for (const [method, path] of [["GET", ""], ["GET", "/operation"], ["POST", "/stop"], ["POST", "/clone"]]) {
        const r = await t.request(method, `/api/v1/instances/${id}${path}`, { cookie: userCookie });
        assert.equal(r.status, 403, `${method} ${path}`);
        await r.body?.cancel();
      }

      // Delete removes containers, volumes and networks.
      for (const inst of [created, clone]) {
        assert.equal((await t.request("DELETE", `/api/v1/instances/${inst.id}`, { cookie: admin })).status, 204);
        assert.equal((await backend.status(inst.name)).status, "missing");
      }
      const leftVolumes = (await backend.docker.listVolumes()).Volumes.filter((v) =>
        names.some((n) => v.Name.includes(n))
      );
      assert.deepEqual(leftVolumes.map((v) => v.Name), []);
      const leftNets = (await backend.docker.listNetworks()).filter((n) => names.some((x) => n.Name.includes(x)));
      assert.deepEqual(leftNets.map((n) => n.Name), []);
      await until(
        () => events.text().includes(`event: instance_deleted\ndata: {"id":${id}}`),
        5_000,
        "deletion pushed",
      );
      events.cancel();
      const actions = t.services.audit.query({ limit: 100, offset: 0 }).entries.map((e) => e.action);
      for (
        const a of [
          "instance.create",
          "instance.stop",
          "instance.start",
          "instance.clone",
          "instance.redeploy",
          "instance.update",
          "instance.delete",
        ]
      ) {
        assert.ok(actions.includes(a), a);
      }
    } finally {
      for (const name of names) await backend?.remove(name).catch(() => {});
      await withImageLock(service.env, () => podman(["rmi", "-f", rebuilt], service.env)).catch(() => {});
      await t.close();
      await service.stop();
    }
  },
});
