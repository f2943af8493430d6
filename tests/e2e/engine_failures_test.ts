import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Operation } from "../../core/instances/operations.ts";
import { builtinPlugins } from "../../plugins/mod.ts";
import { dockerPlugin } from "../../plugins/docker/mod.ts";
import { DockerBackend, dockerDefaults } from "../../plugins/docker/backend.ts";
import { AGENT_IMAGE, buildAgentImage } from "../../scripts/build_agent_image.ts";
import { freePort, waitFor200 } from "../../scripts/_server_probe.ts";
import { testApp } from "../_helpers/harness.ts";
import { podman, startPodman } from "../harness/podman.ts";
import { until } from "../harness/pool.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

Deno.test({
  name:
    "engine stopped in the middle of a creation: a clear error naming the socket, a consistent row, and clean-up once it is back",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const socketDir = await Deno.makeTempDir({ prefix: "claworc-engine-" });
    const socketPath = join(socketDir, "engine.sock");
    let service = await startPodman(undefined, socketPath);
    await buildAgentImage(undefined, service.env);
    const tag = crypto.randomUUID().slice(0, 6);
    const t = await testApp({ CLAWORC_AGENT_IMAGE: AGENT_IMAGE }, [
      ...builtinPlugins().filter((p) => p.name !== "docker"),
      dockerPlugin({ socketPath, network: `claworc-ef-${tag}` }),
    ]);
    const backend = t.services.runtime.backend as DockerBackend;
    let name = "";
    try {
      const admin = await t.setupAdmin();
      const res = await t.request("POST", "/api/v1/instances", {
        cookie: admin,
        body: { display_name: `Engine ${tag}` },
      });
      assert.equal(res.status, 201);
      const { id, name: created } = await res.json();
      name = created;
      // Stop the engine while the container is being made.
      await until(() => t.services.operations.latest(id)?.steps[1].state === "running", 10_000, "container step");
      await service.stop();
      await until(() => t.services.operations.latest(id)?.state === "failed", 30_000, "operation to fail");
      const op = t.services.operations.latest(id) as Operation;
      const failed = op.steps.find((s) => s.state === "failed")!;
      assert.ok(["container", "start", "sshd"].includes(failed.name), `failed at ${failed.name}`);
      assert.match(op.error ?? "", new RegExp(`engine at ${socketPath.replaceAll("/", "\\/")} is not reachable`));
      const row = await (await t.request("GET", `/api/v1/instances/${id}`, { cookie: admin })).json();
      assert.equal(row.status, "error");
      assert.match(row.status_reason, /^Creation failed at ".+": The container engine at .+ is not reachable/);
      assert.match(row.status_reason, /clean-up failed too/, "says what could not be undone");

      // Lifecycle calls answer 503 with the socket, the list still works, /health says why.
      const start = await t.request("POST", `/api/v1/instances/${id}/start`, { cookie: admin });
      assert.equal(start.status, 503);
      const body = await start.json();
      assert.equal(body.code, "ENGINE_UNAVAILABLE");
      assert.ok(body.detail.includes(socketPath));
      assert.equal((await t.request("GET", "/api/v1/instances", { cookie: admin })).status, 200);
      const health = await t.request("GET", "/health");
      assert.equal(health.status, 503);
      assert.equal((await health.json()).checks["docker.engine"], false);

      // The engine is back: deleting removes whatever the failed creation left.
      service = await startPodman(undefined, socketPath);
      assert.equal((await t.request("DELETE", `/api/v1/instances/${id}`, { cookie: admin })).status, 204);
      assert.equal((await backend.status(name)).status, "missing");
      const left = (await backend.docker.listVolumes()).Volumes.filter((v) => v.Name.includes(name));
      assert.deepEqual(left.map((v) => v.Name), []);
    } finally {
      if (name) await backend.remove(name).catch(() => {});
      await t.close();
      await service.stop();
      await Deno.remove(socketDir, { recursive: true }).catch(() => {});
    }
  },
});

/** Starts `main.ts serve` as its own process on `dataPath`; returns its base URL and the child. */
async function serveProcess(dataPath: string, socketPath: string) {
  const port = freePort();
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts", "serve"],
    cwd: ROOT,
    env: {
      CLAWORC_DATA_PATH: dataPath,
      CLAWORC_PORT: String(port),
      // No CLAWORC_DOCKER_SOCKET: the engine is found through DOCKER_HOST (auto-detection).
      DOCKER_HOST: `unix://${socketPath}`,
      CLAWORC_AGENT_IMAGE: AGENT_IMAGE,
      CLAWORC_LOG_LEVEL: "warn",
    },
    // Warnings and a crash's last words show in the test's output.
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const base = `http://127.0.0.1:${port}`;
  await waitFor200(`${base}/health`, started);
  return { base, child };
}

async function api(base: string, method: string, path: string, cookie = "", body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { origin: base, cookie, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null, headers: res.headers };
}

Deno.test({
  name: "control plane killed mid-create: the restarted one resumes the creation to ready and reports orphans",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const service = await startPodman();
    await buildAgentImage(undefined, service.env);
    const dataPath = await Deno.makeTempDir({ prefix: "claworc-kill-" });
    const backend = new DockerBackend({ ...dockerDefaults, socketPath: service.socketPath });
    const tag = crypto.randomUUID().slice(0, 6);
    const orphan = `bot-orphan-${tag}`;
    let name = "";
    let second: Awaited<ReturnType<typeof serveProcess>> | null = null;
    try {
      const first = await serveProcess(dataPath, service.socketPath);
      assert.equal(
        (await api(first.base, "POST", "/api/v1/auth/setup", "", {
          username: "ops",
          password: "ops-password-1",
        })).status,
        201,
      );
      const login = await fetch(`${first.base}/api/v1/auth/login`, {
        method: "POST",
        headers: { origin: first.base, "content-type": "application/json" },
        body: JSON.stringify({ username: "ops", password: "ops-password-1" }),
      });
      const cookie = login.headers.getSetCookie()[0].split(";")[0];
      await login.body?.cancel();
      const created = await api(first.base, "POST", "/api/v1/instances", cookie, { display_name: `Kill ${tag}` });
      assert.equal(created.status, 201, JSON.stringify(created.json));
      const id = created.json.id;
      name = created.json.name;
      await until(
        async () => {
          const op = (await api(first.base, "GET", `/api/v1/instances/${id}/operation`, cookie)).json;
          return op?.steps.find((s: { name: string }) => s.name === "start")?.state === "done";
        },
        30_000,
        "container started",
      );
      first.child.kill("SIGKILL");
      await first.child.status;
      assert.equal((await backend.status(name)).status, "running", "the container outlived the control plane");

      // A container labelled for Claworc that no instance owns: reported, never touched.
      await podman(
        [
          "create",
          "--name",
          orphan,
          "--label",
          "managed-by=claworc",
          "--label",
          `claworc.instance=${orphan}`,
          AGENT_IMAGE,
        ],
        service.env,
      );

      second = await serveProcess(dataPath, service.socketPath);
      await until(
        async () => {
          const op = (await api(second!.base, "GET", `/api/v1/instances/${id}/operation`, cookie)).json;
          return op?.state === "succeeded" || op?.state === "failed";
        },
        120_000,
        "resumed operation to end",
      );
      const op = (await api(second.base, "GET", `/api/v1/instances/${id}/operation`, cookie)).json;
      assert.equal(op.kind, "resume");
      assert.equal(op.state, "succeeded", JSON.stringify(op.steps));
      const inst = (await api(second.base, "GET", `/api/v1/instances/${id}`, cookie)).json;
      assert.equal(inst.status, "running");
      const ssh = (await api(second.base, "GET", `/api/v1/instances/${id}/ssh-test`, cookie)).json;
      assert.equal(ssh.status, "ok", ssh.error);
      const engine = (await api(second.base, "GET", "/api/v1/engine", cookie)).json;
      assert.deepEqual(
        engine.orphans.filter((o: { name: string }) => o.name === orphan).map((o: { name: string }) => o.name),
        [orphan],
      );
      assert.equal((await backend.status(orphan)).status, "creating", "the orphan was left alone");
      assert.equal((await api(second.base, "DELETE", `/api/v1/instances/${id}`, cookie)).status, 204);
    } finally {
      second?.child.kill("SIGTERM");
      await second?.child.status;
      if (name) await backend.remove(name).catch(() => {});
      await backend.docker.getContainer(orphan).remove({ force: true }).catch(() => {});
      await Deno.remove(dataPath, { recursive: true }).catch(() => {});
      await service.stop();
    }
  },
});

Deno.test({
  name: "a missing image fails the creation at the container step with how to build it, and leaves nothing behind",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const service = await startPodman();
    const tag = crypto.randomUUID().slice(0, 6);
    const t = await testApp({}, [
      ...builtinPlugins().filter((p) => p.name !== "docker"),
      dockerPlugin({ socketPath: service.socketPath, network: `claworc-im-${tag}` }),
    ]);
    const backend = t.services.runtime.backend as DockerBackend;
    try {
      const admin = await t.setupAdmin();
      const res = await t.request("POST", "/api/v1/instances", {
        cookie: admin,
        body: { display_name: `No image ${tag}`, image: `localhost/claworc-missing-${tag}:1` },
      });
      assert.equal(res.status, 201);
      const { id, name } = await res.json();
      await until(() => t.services.operations.latest(id)?.state === "failed", 30_000, "creation to fail");
      const op = t.services.operations.latest(id)!;
      assert.deepEqual(op.steps.map((s) => s.state), [
        "done",
        "failed",
        "skipped",
        "skipped",
        "skipped",
        "skipped",
        "skipped",
      ]);
      assert.match(op.steps[1].error ?? "", /agent image is missing.*deno task build:agent/);
      const row = t.services.instances.get(id);
      assert.equal(row.status, "error");
      assert.doesNotMatch(row.status_reason, /clean-up failed/);
      assert.deepEqual((await backend.docker.listVolumes()).Volumes.filter((v) => v.Name.includes(name)), []);
      assert.equal((await t.request("DELETE", `/api/v1/instances/${id}`, { cookie: admin })).status, 204);
    } finally {
      await t.close();
      await service.stop();
    }
  },
});
