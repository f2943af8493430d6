import type { Plugin } from "../../core/plugins/contract.ts";
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
  /** Removes the instance, then closes the app and the engine. */
  close(): Promise<void>;
}

/**
 * Builds that world for a feature plugin's test: `plugins` replace the built-in ones of the same name,
 * the docker backend gets its own network prefix, and the call returns once SSH is connected.
 */
export async function instanceWorld(tag: string, plugins: Plugin[], displayName: string): Promise<InstanceWorld> {
  const service = await startPodman();
  await buildAgentImage(undefined, service.env);
  const replaced = new Set(["docker", ...plugins.map((p) => p.name)]);
  const t = await testApp({ CLAWORC_AGENT_IMAGE: AGENT_IMAGE }, [
    ...builtinPlugins().filter((p) => !replaced.has(p.name)),
    dockerPlugin({ socketPath: service.socketPath, network: `claworc-w-${tag}` }),
    ...plugins,
  ]);
  const backend = t.services.runtime.backend as DockerBackend;
  let name = "";
  const close = async () => {
    if (name) await backend.remove(name).catch(() => {});
    await t.close();
    await service.stop();
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
    await until(() => t.services.ssh.status(id).state === "connected", 240_000, "SSH to the new instance");
    return { service, t, backend, admin, id, name, close };
  } catch (e) {
    await close();
    throw e;
  }
}
