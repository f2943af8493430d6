/**
 * Image builds, imports and removals in one Podman store take turns. Podman does not order a build's
 * layer-cache lookup against another build's commit or a removal ("layer not known"; test files build
 * the agent image at the same time, and one CI run failed so), and two builds of a missing base image
 * would each run debootstrap. An exclusive lock (flock, which also orders threads of one process) on a
 * file next to the store does.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** The lock file for the store `env` selects: next to its storage.conf, or in the repo's cache. */
export function imageLockPath(env: Record<string, string>): string {
  const conf = env.CONTAINERS_STORAGE_CONF;
  return conf ? join(dirname(conf), "image-builds.lock") : join(ROOT, ".cache", "image-builds.lock");
}

/** Runs `fn` while holding the store's image lock; waits for whoever holds it. */
export async function withImageLock<T>(env: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const path = imageLockPath(env);
  await Deno.mkdir(dirname(path), { recursive: true });
  const file = await Deno.open(path, { create: true, write: true });
  try {
    await file.lock(true);
    return await fn();
  } finally {
    file.close();
  }
}
