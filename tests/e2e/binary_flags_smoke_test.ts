/**
 * The release binary's permissions, proven end to end. `deno compile` cannot fetch its runtime on
 * these machines, so this runs `main.ts serve` under `deno run` with exactly the permission flags of
 * the serve task (which tests/deploy/permissions_test.ts holds equal to the compile task's): start,
 * setup, sign-in, an instance created on Podman, a terminal, a model set by the admin, and a chat
 * reply. A permission the binary lacks fails here, in the server's own process.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import denoJson from "../../deno.json" with { type: "json" };
import { freePort, waitFor200 } from "../../scripts/_server_probe.ts";
import { AGENT_IMAGE, buildAgentImage } from "../../scripts/build_agent_image.ts";
import { FAKE_MODEL_LOG, FAKE_MODEL_PORT, fakeModelsChoice } from "../harness/agent_model.ts";
import { podman, startPodman } from "../harness/podman.ts";
import { until } from "../harness/pool.ts";
import { ChatClient } from "../plugins/chat/_chat_client.ts";
import { TermClient } from "../plugins/terminal/_ws_client.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** `deno run` plus the serve task's flags: what the binary is compiled with. */
function binaryArgs(): string[] {
  const tokens = denoJson.tasks.serve.command.split(/\s+/);
  assert.deepEqual(tokens.slice(0, 2), ["deno", "run"]);
  return tokens.slice(1);
}

Deno.test({
  name: "under the binary's exact permissions: start, setup, an instance on Podman, its terminal and a chat reply",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const tag = crypto.randomUUID().slice(0, 6);
    // The engine's socket lives under ./data, which the flags allow (as they allow the usual
    // /var/run/docker.sock and /run/podman/podman.sock, which other tests must not find running).
    const engineDir = `${ROOT}data/smoke-${tag}-engine`;
    await Deno.mkdir(engineDir, { recursive: true });
    const service = await startPodman(undefined, `${engineDir}/podman.sock`);
    await buildAgentImage(undefined, service.env);
    const dataPath = `./data/smoke-${tag}`;
    const port = freePort();
    const base = `http://127.0.0.1:${port}`;
    const started = performance.now();
    const child = new Deno.Command(Deno.execPath(), {
      args: binaryArgs(),
      cwd: ROOT,
      env: {
        CLAWORC_DATA_PATH: dataPath,
        CLAWORC_PORT: String(port),
        CLAWORC_PUBLIC_URL: base,
        CLAWORC_DOCKER_SOCKET: `${engineDir}/podman.sock`,
        CLAWORC_AGENT_IMAGE: AGENT_IMAGE,
        CLAWORC_LOG_LEVEL: "warn",
      },
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const stderr: string[] = [];
    const collecting = (async () => {
      for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) stderr.push(chunk);
    })();
    const clients: { close(): void }[] = [];
    let name = "";
    /** A JSON request as the dashboard sends it (Origin on every request, the session cookie once signed in). */
    const call = async (method: string, path: string, body?: unknown, cookie = "") => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { "content-type": "application/json", origin: base, ...(cookie ? { cookie } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null, text };
    };
    try {
      console.log(`first 200 on /health after ${Math.round(await waitFor200(`${base}/health`, started))} ms`);
      const health = await (await fetch(`${base}/health`)).json();
      assert.equal(health.backend, "docker", JSON.stringify(health));

      const admin = { username: "ops", password: "ops-password-1" };
      assert.equal((await call("POST", "/api/v1/auth/setup", admin)).status, 201);
      const login = await call("POST", "/api/v1/auth/login", admin);
      assert.equal(login.status, 200, login.text);
      const cookie = login.headers.getSetCookie()[0].split(";")[0];
      const api = (method: string, path: string, body?: unknown) => call(method, path, body, cookie);

      // An instance on the engine, tracked to ready.
      const created = await api("POST", "/api/v1/instances", { display_name: `Smoke ${tag}` });
      assert.equal(created.status, 201, created.text);
      const id: number = created.body.id;
      name = created.body.name;
      await until(
        async () => {
          const op = (await api("GET", `/api/v1/instances/${id}/operation`)).body;
          if (op?.state === "failed") throw new Error(`create failed: ${JSON.stringify(op.steps)}`);
          return op?.state === "succeeded";
        },
        240_000,
        "the instance to be created",
      );
      await until(
        async () => (await api("GET", `/api/v1/instances/${id}/ssh-status`)).body?.state === "connected",
        120_000,
        "SSH to the instance",
      );

      // The terminal: a shell on the instance, bytes both ways.
      const ws = base.replace("http", "ws");
      const term = new TermClient(`${ws}/api/v1/instances/${id}/terminal?session_id=smoke&cols=80&rows=24`, {
        cookie,
        origin: base,
      });
      clients.push(term);
      await until(() => term.frames("session").length === 1, 30_000, "the terminal session");
      term.type("echo SMOKE-$((6*7)) $(whoami)\n");
      await until(() => term.text().includes("SMOKE-42 agent"), 30_000, "the shell's answer");

      // A model chosen by the admin reaches the agent; the chat answers through it.
      const script = await Deno.readTextFile(new URL("../harness/fake_model.mjs", import.meta.url));
      await podman(
        ["exec", "-i", "-u", "agent", name, "sh", "-c", "cat > /tmp/fake_model.mjs"],
        service.env,
        new TextEncoder().encode(script),
      );
      await podman(
        ["exec", "-d", "-u", "agent", name, "node", "/tmp/fake_model.mjs", String(FAKE_MODEL_PORT), FAKE_MODEL_LOG],
        service.env,
      );
      const models = await api("PUT", "/api/v1/models", fakeModelsChoice({ fake: "smoke-key-1" }));
      assert.equal(models.status, 200, models.text);
      let rollout: { state: string; results: { state: string; error: string | null }[] } | null = null;
      await until(
        async () => {
          rollout = (await api("GET", `/api/v1/models/rollouts/${models.body.rollout.id}`)).body;
          return rollout?.state === "done";
        },
        300_000,
        "the model rollout",
      );
      assert.deepEqual(rollout!.results.map((r) => r.error ?? r.state), ["applied"]);
      let reply = "";
      for (const deadline = Date.now() + 180_000; !reply && Date.now() < deadline;) {
        const chat = new ChatClient(`${ws}/api/v1/instances/${id}/chat`, { cookie, origin: base });
        clients.push(chat);
        await until(() => chat.ready() || chat.closed !== null, 60_000, "the chat to be ready or closed");
        if (!chat.ready()) {
          await new Promise((r) => setTimeout(r, 1_000));
          continue;
        }
        chat.send({ type: "send", text: `Please answer ECHO-${tag}` });
        await until(() => chat.of("final").length > 0 || chat.of("error").length > 0, 180_000, "the reply");
        reply = String(chat.of("final")[0]?.text ?? `error: ${JSON.stringify(chat.of("error"))}`);
      }
      assert.equal(reply, `Hello from the fake model (fake-model). Heard ECHO-${tag}.`);

      // Deleting it removes the container through the same socket.
      const removed = await api("DELETE", `/api/v1/instances/${id}`);
      assert.equal(removed.status, 204, removed.text);
      assert.equal((await api("GET", `/api/v1/instances/${id}`)).status, 404);
      const left = await podman(["ps", "-a", "--filter", `name=^${name}$`, "--format", "{{.Names}}"], service.env);
      assert.equal(left.trim(), "", "the container is gone");
      name = "";
    } finally {
      for (const c of clients) c.close();
      child.kill("SIGTERM");
      const status = await child.status;
      await collecting;
      if (name) {
        await podman(["rm", "-f", "-t", "0", name], service.env).catch(() => {});
        await podman(["network", "rm", "-f", `claworc-${name}`], service.env).catch(() => {});
      }
      await service.stop();
      await Deno.remove(`${ROOT}${dataPath}`, { recursive: true }).catch(() => {});
      await Deno.remove(engineDir, { recursive: true }).catch(() => {});
      const log = stderr.join("");
      assert.ok(status.success || status.signal === "SIGTERM", `server exit ${JSON.stringify(status)}: ${log}`);
      assert.doesNotMatch(log, /NotCapable|Requires \w+ access|PermissionDenied/, "a permission was missing");
    }
  },
});
