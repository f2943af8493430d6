/**
 * Builds the offline Debian base image `localhost/claworc-base:bookworm` with debootstrap and imports it
 * into podman (no container registry is reachable here). Skips the work when the image exists.
 * The mirror is read from this machine's apt sources at run time; none is written into the repo.
 *
 *   deno run -A scripts/build_base_image.ts
 */
import { join } from "node:path";
import { podman, writePodmanConfig } from "../tests/harness/podman.ts";
import { withImageLock } from "./image_lock.ts";

export const BASE_IMAGE = "localhost/claworc-base:bookworm";

/** Enabled apt source files (`*.sources`, `*.list`) that carry Debian bookworm suites. */
async function debianSourceFiles(): Promise<string[]> {
  const files = [...await listFiles("/etc/apt/sources.list.d"), "/etc/apt/sources.list"]
    .filter((f) => f.endsWith(".sources") || f.endsWith(".list")).sort();
  const found: string[] = [];
  for (const f of files) {
    const text = await Deno.readTextFile(f).catch(() => "");
    if (/^Suites:.*\bbookworm\b/m.test(text) || /^deb\s.*\sbookworm\s/m.test(text)) found.push(f);
  }
  return found;
}

/** The Debian mirror (not the security one) from the machine's apt sources. */
async function aptMirror(): Promise<string> {
  for (const f of await debianSourceFiles()) {
    const text = await Deno.readTextFile(f);
    for (const stanza of text.split(/\n\s*\n/)) {
      const suites = stanza.match(/^Suites:\s*(.+)$/m)?.[1].split(/\s+/) ?? [];
      const uri = stanza.match(/^URIs:\s*(\S+)/m)?.[1];
      if (uri && suites.includes("bookworm")) return uri;
      const line = stanza.match(/^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s/m)?.[1];
      if (line) return line;
    }
  }
  throw new Error("No Debian bookworm mirror found in the apt sources.");
}

async function listFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) if (e.isFile) files.push(join(dir, e.name));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return files;
}

async function run(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "inherit", stderr: "inherit" }).output();
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")} failed`);
}

/**
 * The environment for Podman run from the command line by an operator: none added, so Podman uses its
 * own configuration and store (the engine Claworc will drive). Tests pass the private store's instead.
 */
export const OPERATOR_PODMAN: Record<string, string> = {};

/** Ensures the base image exists (one builder at a time per store); returns its tag. */
export async function ensureBaseImage(env?: Record<string, string>): Promise<string> {
  const store = env ?? await writePodmanConfig();
  return await withImageLock(store, () => importBaseImage(store));
}

async function importBaseImage(env: Record<string, string>): Promise<string> {
  const exists = await new Deno.Command("podman", { args: ["image", "exists", BASE_IMAGE], env }).output();
  if (exists.success) return BASE_IMAGE;
  const rootfs = await Deno.makeTempDir({ prefix: "claworc-rootfs-" });
  try {
    const started = performance.now();
    await run("debootstrap", ["--variant=minbase", "bookworm", rootfs, await aptMirror()]);
    // debootstrap writes only "bookworm main"; the host's sources add updates and security (Chromium).
    await Deno.remove(join(rootfs, "etc/apt/sources.list")).catch(() => {});
    for (const f of await debianSourceFiles()) {
      await Deno.copyFile(f, join(rootfs, "etc/apt/sources.list.d", f.split("/").at(-1)!));
    }
    const tar = await new Deno.Command("tar", { args: ["-C", rootfs, "-c", "."], stdout: "piped" }).output();
    if (!tar.success) throw new Error("tar of the rootfs failed");
    await podman(["import", "-", BASE_IMAGE], env, tar.stdout);
    console.log(`Built ${BASE_IMAGE} in ${Math.round((performance.now() - started) / 1000)} s.`);
    return BASE_IMAGE;
  } finally {
    await Deno.remove(rootfs, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) await ensureBaseImage(OPERATOR_PODMAN);
