import { joinPath } from "./paths.ts";
import type { RemoteFs, RemoteStats } from "./remote_fs.ts";

/** One entry of a folder listing. */
export interface FileEntry {
  name: string;
  type: "file" | "directory" | "symlink" | "other";
  /** Bytes; null for folders. */
  size: number | null;
  /** Permission bits, e.g. 420 for 0644. */
  mode: number;
  /** `ls -l` style, e.g. `-rw-r--r--` (the reference's `permissions`). */
  permissions: string;
  /** ISO 8601 UTC. */
  mtime: string;
  /** Where a symlink points (as stored in the link); absent for other types. */
  target?: string;
  /** For a symlink: what it points to, or `missing` when it dangles (or cannot be followed). */
  target_type?: "file" | "directory" | "other" | "missing";
}

const S_IFMT = 0o170000;
const TYPE_CHAR: Record<number, string> = {
  0o040000: "d",
  0o120000: "l",
  0o100000: "-",
  0o020000: "c",
  0o060000: "b",
  0o010000: "p",
  0o140000: "s",
};

/** `ls -l` permission text for a full `st_mode`. */
export function permissionText(mode: number): string {
  const rwx = (bits: number, special: boolean, s: string) =>
    (bits & 4 ? "r" : "-") + (bits & 2 ? "w" : "-") +
    (special ? (bits & 1 ? s : s.toUpperCase()) : bits & 1 ? "x" : "-");
  return (TYPE_CHAR[mode & S_IFMT] ?? "?") +
    rwx((mode >> 6) & 7, (mode & 0o4000) !== 0, "s") +
    rwx((mode >> 3) & 7, (mode & 0o2000) !== 0, "s") +
    rwx(mode & 7, (mode & 0o1000) !== 0, "t");
}

/** The entry for `name` with its lstat attributes (a symlink is reported as a link, with its target). */
export async function describe(fs: RemoteFs, dir: string, name: string, attrs: RemoteStats): Promise<FileEntry> {
  const type = attrs.isSymbolicLink()
    ? "symlink"
    : attrs.isDirectory()
    ? "directory"
    : attrs.isFile()
    ? "file"
    : "other";
  const entry: FileEntry = {
    name,
    type,
    size: type === "directory" ? null : attrs.size,
    mode: attrs.mode & 0o7777,
    permissions: permissionText(attrs.mode),
    mtime: new Date(attrs.mtime * 1000).toISOString(),
  };
  if (type === "symlink") {
    const path = joinPath(dir, name);
    entry.target = await fs.readlink(path).catch(() => "");
    const to = await fs.stat(path).catch(() => null);
    entry.target_type = !to ? "missing" : to.isDirectory() ? "directory" : to.isFile() ? "file" : "other";
  }
  return entry;
}

/** A folder's entries (without `.` and `..`): folders first, then by name. */
export async function listFolder(fs: RemoteFs, dir: string): Promise<FileEntry[]> {
  const raw = (await fs.readdir(dir)).filter((e) => e.filename !== "." && e.filename !== "..");
  const entries = await Promise.all(raw.map((e) => describe(fs, dir, e.filename, e.attrs)));
  const rank = (e: FileEntry) => e.type === "directory" ? 0 : 1;
  return entries.sort((a, b) => rank(a) - rank(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
