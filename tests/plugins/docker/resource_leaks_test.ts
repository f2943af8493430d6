/**
 * Leak checks for the docker backend (dockerode over Podman's Docker API socket), driven through the
 * control plane as it runs: one agent-image instance created through the API and connected over SSH,
 * then groups of rounds, each after a warm-up round, that must leave what the process holds as they
 * found it: Deno's resource table, the open SSH channels, the live-event bus's listeners, the engine
 * event streams the watcher has open (it follows `GET /events` and follows again when the stream
 * breaks, so one that keeps an old stream, or follows twice, accumulates them), and, since Deno's
 * node:http keeps dockerode's Unix sockets out of the resource table, the connections the engine has
 * open on this test's own API socket. (Not the process's socket descriptors: test files run in parallel
 * workers of one process, so those count other files' sockets too.)
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { DockerBackend } from "../../../plugins/docker/backend.ts";
import { dockerPlugin } from "../../../plugins/docker/mod.ts";
import { builtinPlugins } from "../../../plugins/mod.ts";
import { AGENT_IMAGE, buildAgentImage } from "../../../scripts/build_agent_image.ts";
import { type TestApp, testApp } from "../../_helpers/harness.ts";
import {
  assertHoldsNoMore,
  type Counters,
  type Hold,
  openSshChannels,
  settledHold,
} from "../../_helpers/leak_check.ts";
import { type PodmanService, startPodman } from "../../harness/podman.ts";
import { WITHOUT_PODMAN } from "../../harness/podman_available.ts";
import { until } from "../../harness/pool.ts";
import { agentSpec } from "./_agent_spec.ts";

/** Rounds of the quick groups (engine reads) and of the slow ones (each restarts a container or the engine). */
const ROUNDS = 10;
const SLOW_ROUNDS = 3;
/** Also lets an idle keep-alive connection to the engine expire (node:http's agent keeps one about 5 s). */
const SETTLE_MS = 10_000;
/** Longest wait for the engine or the instance (a container start, sshd, SSH, the event stream back). */
const WAIT_MS = 120_000;

/**
 * Connections the engine has accepted on its API socket now (/proc/net/unix lists an accepted
 * connection under its listener's path). Deno's node:http keeps dockerode's sockets out of the
 * resource table, so this and the descriptor count are what see an engine request or stream left open.
 */
function engineConnections(socketPath: string): number {
  return Deno.readTextFileSync("/proc/net/unix").split("\n")
    .filter((line) => line.endsWith(` ${socketPath}`) && line.trim().split(/\s+/)[5] === "03").length;
}

interface World {
  service: PodmanService;
  t: TestApp;
  backend: DockerBackend;
  admin: string;
  id: number;
  name: string;
  /** Engine event streams the backend opened (`GET /events`) and has not closed. */
  eventStreams(): number;
  /** How many it opened in all. */
  eventStreamsOpened(): number;
  /** Stops the engine and starts it again on the same socket (its containers keep running). */
  restartEngine(): Promise<void>;
  counters: Counters;
}

/**
 * Podman on a socket of a fixed path (so the engine can be restarted where the backend expects it),
 * the app with the built-in plugins and a docker backend with a network prefix of its own, and one
 * instance created through the API, its creation ended and SSH connected.
 */
async function openWorld(tag: string): Promise<{ w: World; close(): Promise<void> }> {
  const socketDir = await Deno.makeTempDir({ prefix: "claworc-leaks-engine-" });
  const socketPath = join(socketDir, "engine.sock");
  let service = await startPodman(undefined, socketPath);
  const cleanup: (() => Promise<unknown>)[] = [
    () => Deno.remove(socketDir, { recursive: true }),
    () => service.stop(),
  ];
  const close = async () => {
    for (const c of cleanup.reverse()) await c().catch(() => {});
  };
  try {
    await buildAgentImage(undefined, service.env);
    const t = await testApp({ CLAWORC_AGENT_IMAGE: AGENT_IMAGE }, [
      ...builtinPlugins().filter((p) => p.name !== "docker"),
      dockerPlugin({ socketPath, network: `claworc-lk-${tag}` }),
    ]);
    cleanup.push(() => t.close());
    const backend = t.services.runtime.backend as DockerBackend;
    // Counted where the watcher gets them, before it starts (lifecycle.attach).
    let open = 0, opened = 0;
    const getEvents = backend.docker.getEvents.bind(backend.docker) as (o: object) => Promise<NodeJS.ReadableStream>;
    (backend.docker as unknown as { getEvents: typeof getEvents }).getEvents = async (o: object) => {
      const stream = await getEvents(o);
      open++, opened++;
      stream.once("close", () => open--);
      return stream;
    };
    const admin = await t.setupAdmin();
    await t.services.lifecycle.attach();
    const created = await t.request("POST", "/api/v1/instances", {
      cookie: admin,
      body: { display_name: `Leaks ${tag}` },
    });
    assert.equal(created.status, 201, await created.clone().text());
    const { id, name } = await created.json();
    cleanup.push(() => backend.remove(name));
    await until(() => t.services.operations.latest(id)?.state !== "running", 300_000, "the creation to end");
    await until(() => t.services.ssh.status(id).state === "connected", WAIT_MS, "SSH to the new instance");
    const w: World = {
      service,
      t,
      backend,
      admin,
      id,
      name,
      eventStreams: () => open,
      eventStreamsOpened: () => opened,
      async restartEngine() {
        await service.stop();
        // stop() removes a private socket's folder only; this one is ours.
        service = w.service = await startPodman(undefined, socketPath);
      },
      counters: {
        "open SSH channels": openSshChannels(t.services.ssh),
        "live-event listeners": () => t.services.live.size,
        "engine event streams": () => open,
        "engine API connections": () => engineConnections(socketPath),
      },
    };
    return { w, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** `settledHold`, failing instead of waiting for ever when the counts never stop changing. */
async function baseline(w: World): Promise<Hold> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      settledHold(w.counters),
      new Promise<never>((_, reject) =>
        timer = setTimeout(() => reject(new Error("the counts did not settle within 30 s")), 30_000)
      ),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
const backAt = (w: World, base: Hold, what: string) => assertHoldsNoMore(base, what, w.counters, SETTLE_MS);

/** Runs a group of rounds after a warm-up round; logs how long the rounds took. */
async function group(w: World, what: string, rounds: number, round: (n: number) => Promise<void>): Promise<void> {
  await round(0);
  const base = await baseline(w);
  const started = performance.now();
  for (let n = 1; n <= rounds; n++) await round(n);
  console.log(`${what}: ${rounds} rounds in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  await backAt(w, base, `${rounds} rounds of ${what}`);
  assert.equal(w.eventStreams(), 1, "the watcher follows one event stream");
}

async function json(res: Response, status = 200) {
  const text = await res.text();
  assert.equal(res.status, status, text);
  return JSON.parse(text);
}

Deno.test({
  name: "docker backend on Podman: engine reads, logs, stop/start and restart, create and delete, engine restarts " +
    "leave no socket, channel, listener or event stream behind",
  ignore: WITHOUT_PODMAN,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(ctx) {
    const tag = crypto.randomUUID().slice(0, 6);
    const { w, close } = await openWorld(tag);
    const { t, backend, admin, id, name } = w;
    const get = (path: string) => t.request("GET", path, { cookie: admin });
    const post = (path: string) => t.request("POST", path, { cookie: admin });
    const connected = () =>
      until(() => t.services.ssh.status(id).state === "connected", WAIT_MS, "SSH connected again");
    try {
      await ctx.step(
        "status, list, health, engine and container logs",
        () =>
          group(w, "engine reads", ROUNDS, async (n) => {
            assert.equal((await json(await get(`/api/v1/instances/${id}`))).status, "running");
            assert.ok((await json(await get("/api/v1/instances"))).some((i: { id: number }) => i.id === id));
            assert.equal((await json(await get("/health"))).checks["docker.engine"], true);
            const engine = await json(await get("/api/v1/engine"));
            assert.equal(engine.available, true);
            // The container console comes from the backend (the engine's logs call), read once.
            const logs = await get(`/api/v1/instances/${id}/logs?type=system&tail=20`);
            assert.equal(logs.status, 200);
            const text = await logs.text();
            assert.match(text, /"source":"container"/);
            assert.match(text, /event: end/);
            assert.equal((await backend.status(name)).status, "running");
            assert.ok((await backend.list()).some((c) => c.name === name));
            assert.ok((await backend.logs(name, 5 + n)).length > 0);
            assert.equal((await backend.sshEndpoint(name)).port, 22);
            assert.equal(await backend.available(), true);
          }),
      );

      await ctx.step(
        "stop and start, then restart, through the API",
        () =>
          group(w, "stop/start and restart", SLOW_ROUNDS, async () => {
            assert.equal((await json(await post(`/api/v1/instances/${id}/stop`))).status, "stopped");
            assert.equal((await backend.status(name)).status, "stopped");
            assert.equal((await json(await post(`/api/v1/instances/${id}/start`))).status, "running");
            await connected();
            assert.equal((await json(await post(`/api/v1/instances/${id}/restart`))).status, "running");
            await connected();
            assert.equal((await t.services.ssh.exec(id, "echo up")).stdout, "up\n");
          }),
      );

      await ctx.step(
        "create (its volume cloned from the instance's) and delete a second instance in the backend",
        () =>
          group(w, "create and delete", SLOW_ROUNDS, async (n) => {
            const other = `bot-lk-${tag}-${n}`;
            const spec = agentSpec(1000 + n, other);
            try {
              // As a clone does: a helper container copies the running instance's home volume.
              await backend.createVolumes(spec, name);
              await backend.createWorkload(spec);
              await backend.start(other);
              assert.equal((await backend.status(other)).status, "running");
              await backend.logs(other, 10);
            } finally {
              await backend.remove(other);
            }
            assert.equal((await backend.status(other)).status, "missing");
          }),
      );

      await ctx.step("engine restarted under the watcher", () =>
        group(w, "engine restarts", SLOW_ROUNDS, async (n) => {
          const opened = w.eventStreamsOpened();
          await w.restartEngine();
          // The watcher notices the broken stream and follows again after its back-off (1 s).
          await until(() => w.eventStreamsOpened() > opened, WAIT_MS, `round ${n}: the event stream followed again`);
          assert.equal((await json(await get(`/api/v1/instances/${id}`))).status, "running");
          assert.equal((await backend.status(name)).status, "running");
        }));

      // The watcher still works: a stop behind Claworc's back reaches the row through an engine event.
      await backend.docker.getContainer(name).stop({ t: 5 });
      await until(() => t.services.instances.get(id).status === "stopped", 30_000, "the engine's stop event");
    } finally {
      await close();
    }
  },
});
