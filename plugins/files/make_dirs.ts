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
  if (roots.includes(path)) {
    await confiner.existing(path);
    return 0;
  }
  if (!roots.some((root) => isWithin(path, root))) await confiner.entry(path); // refused: outside every root
  const parts = path.split("/").slice(1);
  let created = 0;
  for (let i = 1; i <= parts.length; i++) {
    const prefix = "/" + parts.slice(0, i).join("/");
    // Only folders strictly below a root are ours to check or create (not /home for /home/agent).
    if (!roots.some((root) => isWithin(prefix, root) && prefix !== root)) continue;
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
