import type { Plugin } from "../../core/plugins/contract.ts";
import type { AgentConfigOptions } from "../../core/openclaw/agent_config.ts";
import type { DockerBackend } from "../../plugins/docker/backend.ts";
import { dockerPlugin } from "../../plugins/docker/mod.ts";
import { builtinPlugins } from "../../plugins/mod.ts";
import { AGENT_IMAGE, buildAgentImage } from "../../scripts/build_agent_image.ts";
import { type TestApp, testApp } from "../_helpers/harness.ts";
import { type PodmanService, startPodman } from "./podman.ts";
import { until } from "./pool.ts";

/** An app on Podman with one real agent-image instance, created through the API and connected over SSH. */
export interface InstanceWorld {
  service: PodmanService;
  t: TestApp;
  backend: DockerBackend;
  /** The first admin's session cookie. */
  admin: string;
  id: number;
  name: string;
  /**
   * Restarts the control plane: closes the app (the instance keeps running) and opens a new one on the
   * same data folder and engine, as after a process restart; `t` is then the new app. Returns once SSH
   * is connected again.
   */
  restart(): Promise<TestApp>;
  /** Removes the instance, then closes the app and the engine. */
  close(): Promise<void>;
}

/**
 * Builds that world for a feature plugin's test: the plugins `makePlugins` returns replace the built-in
 * ones of the same name (made anew for each app), the docker backend gets its own network prefix, and
 * the call returns once the creation has ended and SSH is connected (with `options.returnAtSsh`, as
 * soon as SSH is, while the creation may still wait for the desktop and gateway); `options.agentConfig`
 * changes OpenClaw config timeouts.
 */
export async function instanceWorld(
  tag: string,
  makePlugins: () => Plugin[],
  displayName: string,
  options: { agentConfig?: Partial<AgentConfigOptions>; returnAtSsh?: boolean } = {},
): Promise<InstanceWorld> {
  const service = await startPodman();
  await buildAgentImage(undefined, service.env);
  const replaced = new Set(["docker", ...makePlugins().map((p) => p.name)]);
  const dataPath = await Deno.makeTempDir({ prefix: "claworc-world-" });
  const open = () =>
    testApp({ CLAWORC_AGENT_IMAGE: AGENT_IMAGE }, [
      ...builtinPlugins().filter((p) => !replaced.has(p.name)),
      dockerPlugin({ socketPath: service.socketPath, network: `claworc-w-${tag}` }),
      ...makePlugins(),
    ], { dataPath, agentConfig: options.agentConfig });
  let t = await open();
  let backend = t.services.runtime.backend as DockerBackend;
  let name = "";
  const close = async () => {
    if (name) await backend.remove(name).catch(() => {});
    await t.close();
    await service.stop();
    await Deno.remove(dataPath, { recursive: true });
  };
  const world = { service, t, backend, admin: "", id: 0, name, close } as InstanceWorld;
  world.restart = async () => {
    await t.close();
    t = world.t = await open();
    backend = world.backend = t.services.runtime.backend as DockerBackend;
    await t.services.lifecycle.attach();
    await until(() => t.services.ssh.status(world.id).state === "connected", 60_000, "SSH after the restart")
      .catch((e) => {
        const { state, events } = t.services.ssh.status(world.id) as { state: string; events?: unknown };
        throw new Error(
          `${e.message}: ${state}, ${JSON.stringify(events)}, ${t.services.instances.get(world.id).status} ${
            t.services.instances.get(world.id).status_reason
          }`,
        );
      });
    return t;
  };
  try {
    const admin = await t.setupAdmin();
    await t.services.lifecycle.attach();
    const created = await t.request("POST", "/api/v1/instances", {
      cookie: admin,
      body: { display_name: displayName },
    });
    if (created.status !== 201) throw new Error(`create answered ${created.status}: ${await created.text()}`);
    const { id } = await created.json();
    name = t.services.instances.get(id).name;
    // Ready as a user sees it: the creation ended (its gateway answered, or it was kept running late).
    if (!options.returnAtSsh) {
      await until(() => t.services.operations.latest(id)?.state !== "running", 300_000, "the creation to end");
    }
    await until(() => t.services.ssh.status(id).state === "connected", 240_000, "SSH to the new instance");
    return Object.assign(world, { admin, id, name });
  } catch (e) {
    await close();
    throw e;
  }
}
