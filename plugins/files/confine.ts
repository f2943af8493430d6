import { AppError } from "../../core/mod.ts";
import { baseName, isWithin, joinPath, normalizePath, parentOf } from "./paths.ts";
import { isMissing, type RemoteFs, sftpError } from "./remote_fs.ts";

/** A path a client may use: `path` is where the operation happens, resolved on the instance. */
export interface Confined {
  /** As the client wrote it, normalized (for messages and the audit). */
  requested: string;
  /** Resolved on the instance: the real parent folder joined with the last name (not followed). */
  path: string;
}

/**
 * Confines paths to the configured roots, deciding on the instance itself: roots and paths are
 * resolved with SFTP `realpath` (so symlinks, including a root that is a link, count as what they
 * point to) and the result must stay inside a resolved root. A path is refused (403) before any
 * operation touches it; syntax problems (NUL, `..`, overlong names) are 400.
 */
export class Confiner {
  #real: Promise<string[]> | undefined;

  constructor(private readonly fs: RemoteFs, readonly roots: readonly string[]) {}

  /**
   * The configured roots, resolved on the instance (roots that cannot be resolved are left out;
   * OpenSSH's realpath accepts a missing last name, so a root may be listed that does not exist).
   */
  realRoots(): Promise<string[]> {
    return this.#real ??= Promise.all(this.roots.map((r) => this.fs.realpath(r).catch(() => null)))
      .then((list) => [...new Set(list.filter((r): r is string => r !== null).map(normalizePath))]);
  }

  /** The resolved roots that are folders on the instance now: what a client is shown and can open. */
  async presentRoots(): Promise<string[]> {
    const roots = await this.realRoots();
    const folders = await Promise.all(roots.map((r) => this.fs.stat(r).then((st) => st.isDirectory(), () => false)));
    return roots.filter((_, i) => folders[i]);
  }

  /** An existing file or folder, symlinks followed all the way: for reading, listing, downloading. */
  async existing(raw: string): Promise<Confined> {
    const requested = await this.#lexical(raw);
    let real: string;
    try {
      real = normalizePath(await this.fs.realpath(requested));
    } catch (err) {
      throw isMissing(err) ? new AppError("NOT_FOUND", `Nothing at "${requested}".`) : sftpError(err, "resolve path");
    }
    await this.#inside(real, requested);
    return { requested, path: real };
  }

  /**
   * A name inside an existing, confined folder, without following the name itself: for creating,
   * replacing, deleting or renaming it (a symlink there is acted on as a link, never through).
   */
  async entry(raw: string): Promise<Confined> {
    const requested = await this.#lexical(raw);
    if (requested === "/") throw new AppError("FORBIDDEN", "The file system root cannot be changed.");
    const parent = await this.existing(parentOf(requested));
    const path = joinPath(parent.path, baseName(requested));
    await this.#inside(path, requested);
    return { requested, path };
  }

  /**
   * True when `path` (resolved) is one of the roots or a folder that holds one (`/data/p` for a root
   * `/data/p/current`): those must not be deleted or moved, or a root would go with them.
   */
  async holdsRoot(path: string): Promise<boolean> {
    return (await this.presentRoots()).some((root) => isWithin(root, path));
  }

  /** Syntax (400), then a lexical check against the roots as configured or resolved (403). */
  async #lexical(raw: string): Promise<string> {
    const path = normalizePath(raw);
    const allowed = [...this.roots.map(normalizePath), ...await this.realRoots()];
    if (!allowed.some((root) => isWithin(path, root))) throw outside(path);
    return path;
  }

  async #inside(real: string, requested: string): Promise<void> {
    if (!(await this.realRoots()).some((root) => isWithin(real, root))) throw outside(requested);
  }
}

function outside(path: string): AppError {
  return new AppError("FORBIDDEN", `The path "${path}" is outside the folders this instance shares.`);
}
