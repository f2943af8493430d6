import type { Browser, Page } from "playwright-core";
import { loadConfig } from "../../core/config.ts";
import { silentLogger } from "../../core/log.ts";
import type { Plugin } from "../../core/plugins/contract.ts";
import { startServer } from "../../core/server.ts";
import type { DockerBackend } from "../../plugins/docker/backend.ts";
import { dockerPlugin } from "../../plugins/docker/mod.ts";
import { builtinPlugins } from "../../plugins/mod.ts";
import { coreRoutes, errorPage } from "../../routes/mod.ts";
import { AGENT_IMAGE, buildAgentImage } from "../../scripts/build_agent_image.ts";
import { launchBrowser } from "../_helpers/browser.ts";
import { startPodman } from "./podman.ts";
import { until } from "./pool.ts";

/** A real server on Podman with one agent-image instance, an admin, and Chromium signed in as that admin. */
export interface UiWorld {
  server: Awaited<ReturnType<typeof startServer>>;
  browser: Browser;
  /** The admin's `claworc_session=...` cookie. */
  cookie: string;
  id: number;
  name: string;
  /** A new page (1280×900) signed in as the admin; its page errors are collected in `errors`. */
  page(): Promise<Page>;
  errors: string[];
  close(): Promise<void>;
}

/**
 * Builds that world for a browser test: `plugins` replace the built-in ones of the same name, and the
 * call returns once the creation has ended and SSH to the new instance is connected.
 */
export async function uiWorld(tag: string, plugins: Plugin[] = []): Promise<UiWorld> {
  const podman = await startPodman();
  await buildAgentImage(undefined, podman.env);
  const network = `claworc-ui-${tag}`;
  const dataPath = await Deno.makeTempDir({ prefix: "claworc-ui-" });
  const config = loadConfig((n) =>
    ({ CLAWORC_DATA_PATH: dataPath, CLAWORC_PORT: "0", CLAWORC_AGENT_IMAGE: AGENT_IMAGE })[n]
  );
  const replaced = new Set(["docker", ...plugins.map((p) => p.name)]);
  const server = await startServer(config, {
    routes: coreRoutes,
    plugins: [
      ...builtinPlugins().filter((p) => !replaced.has(p.name)),
      dockerPlugin({ socketPath: podman.socketPath, network }),
      ...plugins,
    ],
    errorPage,
  }, { log: silentLogger });
  const browser = await launchBrowser();
  const backend = server.services.runtime.backend as DockerBackend;
  const errors: string[] = [];
  let name = "";
  const close = async () => {
    await browser.close();
    if (name) await backend.remove(name).catch(() => {});
    await backend.docker.getNetwork(network).remove().catch(() => {});
    await server.close();
    await podman.stop();
    await Deno.remove(dataPath, { recursive: true });
  };
  try {
    const setup = await fetch(`${server.url}/api/v1/auth/setup`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: server.url },
      body: JSON.stringify({ username: "admin", password: "admin-password-1" }),
    });
    const cookie = setup.headers.getSetCookie()[0].split(";")[0];
    const created = await fetch(`${server.url}/api/v1/instances`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: server.url, cookie },
      body: JSON.stringify({ display_name: `UI ${tag}` }),
    });
    if (created.status !== 201) throw new Error(`create answered ${created.status}: ${await created.text()}`);
    const { id } = await created.json();
    name = server.services.instances.get(id).name;
    // Ready as a user sees it: the creation ended (its gateway answered, or it was kept running late).
    await until(() => server.services.operations.latest(id)?.state !== "running", 300_000, "the creation to end");
    await until(() => server.services.ssh.status(id).state === "connected", 60_000, "SSH to the new instance");
    const page = async () => {
      const [k, v] = cookie.split("=");
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      await context.addCookies([{ name: k, value: v, url: server.url }]);
      const p = await context.newPage();
      p.on("pageerror", (e) => errors.push(e.message));
      return p;
    };
    return { server, browser, cookie, id, name, page, errors, close };
  } catch (e) {
    await close();
    throw e;
  }
}
