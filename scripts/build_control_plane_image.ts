/**
 * Builds the control plane image from deploy/Dockerfile with Podman, on the debootstrap base: the
 * project's runtime files at /app, this machine's deno binary, every dependency cached in the image.
 * The build's Deno gets this machine's npm registry setting and CA bundle as build secrets, never as
 * build arguments. The image is in Docker's format: Podman's default (OCI) has no HEALTHCHECK.
 *
 *   deno run -A scripts/build_control_plane_image.ts [--tag localhost/claworc:dev]
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ensureBaseImage, OPERATOR_PODMAN } from "./build_base_image.ts";
import { withImageLock } from "./image_lock.ts";
import { writePodmanConfig } from "../tests/harness/podman.ts";
import { manifestDefaults } from "../core/kube_manifests/options.ts";

/** The tag tests run; every build is also tagged with the manifests' default image (`claworc:<version>`). */
export const CONTROL_PLANE_IMAGE = "localhost/claworc:dev";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** What runs in the image (and what `deno task build` needs); static/build is built inside. */
const APP_FILES = [
  "main.ts",
  "cli.ts",
  "deno.json",
  "deno.lock",
  "core",
  "routes",
  "plugins",
  "islands",
  "static",
  "scripts/build_islands.ts",
];

async function run(cmd: string, args: string[], env?: Record<string, string>): Promise<string> {
  const out = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "inherit" }).output();
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")} failed`);
  return new TextDecoder().decode(out.stdout).trim();
}

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

/** Builds (or, with Podman's layer cache, refreshes) the control plane image; returns its tag. */
export async function buildControlPlaneImage(
  tag = CONTROL_PLANE_IMAGE,
  env?: Record<string, string>,
): Promise<string> {
  env ??= await writePodmanConfig();
  const base = await ensureBaseImage(env);
  const context = await Deno.makeTempDir({ prefix: "claworc-control-plane-ctx-" });
  try {
    const app = join(context, "app");
    await Deno.mkdir(join(app, "scripts"), { recursive: true });
    for (const f of APP_FILES) await run("cp", ["-a", join(ROOT, f), join(app, f)]);
    await Deno.remove(join(app, "static", "build"), { recursive: true }).catch(() => {});
    await Deno.copyFile(Deno.execPath(), join(context, "deno"));
    await Deno.chmod(join(context, "deno"), 0o755);
    await Deno.copyFile(join(ROOT, "deploy", "Dockerfile"), join(context, "Dockerfile"));

    const secrets = await Deno.makeTempDir({ prefix: "claworc-control-plane-secrets-" });
    try {
      const registry = join(secrets, "registry");
      await Deno.writeTextFile(registry, await run("npm", ["config", "get", "registry"]));
      // Docker's image format: the OCI one has no HEALTHCHECK.
      const args = ["build", "--format", "docker", "--build-arg", `BASE=${base}`, "-t", tag];
      args.push("--secret", `id=registry,src=${registry}`);
      if (manifestDefaults.image !== tag) args.push("-t", manifestDefaults.image);
      const ca = "/etc/ssl/certs/ca-certificates.crt";
      if (await exists(ca)) args.push("--secret", `id=hostca,src=${ca}`);
      let started = 0; // once the store is ours: the time spent waiting for another build is not this one's
      const out = await withImageLock(env, () => {
        started = performance.now();
        return new Deno.Command("podman", {
          args: [...args, "--layers", "--ignorefile", "/dev/null", "-f", join(context, "Dockerfile"), context],
          env,
          stdout: "inherit",
          stderr: "inherit",
        }).output();
      });
      if (!out.success) throw new Error("podman build of the control plane image failed");
      console.log(`Built ${tag} in ${Math.round((performance.now() - started) / 1000)} s.`);
      return tag;
    } finally {
      await Deno.remove(secrets, { recursive: true }).catch(() => {});
    }
  } finally {
    await Deno.remove(context, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  const { values } = parseArgs({ args: Deno.args, options: { tag: { type: "string" } } });
  // Into the operator's engine (Podman's own configuration), not the tests' private store.
  await buildControlPlaneImage(values.tag ?? CONTROL_PLANE_IMAGE, OPERATOR_PODMAN);
}
