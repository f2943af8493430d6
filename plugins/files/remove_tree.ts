import { joinPath } from "./paths.ts";
import type { RemoteFs } from "./remote_fs.ts";

/** What a removal removed. */
export interface Removed {
  files: number;
  folders: number;
  bytes: number;
}

/**
 * Removes `path` (already confined, not followed): a file or link is unlinked; a folder is removed
 * with everything in it when `recursive`, else only if empty. Links inside are removed as links,
 * never followed, so nothing outside the folder is touched.
 */
export async function removeTree(fs: RemoteFs, path: string, recursive: boolean): Promise<Removed> {
  const removed: Removed = { files: 0, folders: 0, bytes: 0 };
  const walk = async (p: string) => {
    const st = await fs.lstat(p);
    if (!st.isDirectory()) {
      await fs.unlink(p);
      removed.files++;
      removed.bytes += st.size;
      return;
    }
    if (recursive) {
      for (const e of await fs.readdir(p)) {
        if (e.filename !== "." && e.filename !== "..") await walk(joinPath(p, e.filename));
      }
    }
    await fs.rmdir(p);
    removed.folders++;
  };
  await walk(path);
  return removed;
}
