import { AppError } from "../../core/mod.ts";
import type { Confiner } from "./confine.ts";
import { isWithin, normalizePath } from "./paths.ts";
import type { RemoteFs } from "./remote_fs.ts";

/**
 * `mkdir -p` inside the roots: each missing component is created in a folder that was itself
 * confined first, and an existing one must be a folder (a symlink counts only if it resolves to a
 * folder inside the roots). Returns how many folders were created.
 */
export async function makeDirs(fs: RemoteFs, confiner: Confiner, raw: string): Promise<number> {
  const path = normalizePath(raw);
  const roots = [...confiner.roots.map(normalizePath), ...await confiner.realRoots()];
  // Only folders strictly below a root are ours to check or create (not /home for /home/agent); a
  // root inside another (/home/agent/workspace) is such a folder, and is made again when missing.
  const below = (p: string) => roots.some((root) => isWithin(p, root) && p !== root);
  if (!below(path)) {
    if (!roots.includes(path)) await confiner.entry(path); // refused: outside every root
    // A root no other root holds must exist already (realpath alone accepts a missing last name).
    if (!(await fs.stat((await confiner.existing(path)).path)).isDirectory()) throw notFolder(path);
    return 0;
  }
  const parts = path.split("/").slice(1);
  let created = 0;
  for (let i = 1; i <= parts.length; i++) {
    const prefix = "/" + parts.slice(0, i).join("/");
    if (!below(prefix)) continue;
    const entry = await confiner.entry(prefix);
    const st = await fs.lstatOrNull(entry.path);
    if (!st) {
      await fs.mkdir(entry.path);
      created++;
    } else if (st.isSymbolicLink()) {
      await confiner.existing(prefix);
      if (!(await fs.stat(entry.path)).isDirectory()) throw notFolder(prefix);
    } else if (!st.isDirectory()) throw notFolder(prefix);
  }
  return created;
}

function notFolder(path: string): AppError {
  return new AppError("CONFLICT", `"${path}" exists and is not a folder.`);
}
