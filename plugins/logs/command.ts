import { MAX_TAIL } from "./query.ts";
import type { LogSource } from "./types.ts";

/**
 * The command that reads a log file on the instance: `tail -n N [-F] -- <path>`. Only an allow-listed
 * path and a checked integer go into it, so nothing a client sends is ever interpreted by a shell.
 * `-F` follows the name, not the open file: after a rotation (rename, new file) it reopens the path.
 * It polls (`---disable-inotify`, every half second): in the agent's container, on overlayfs, inotify-based
 * `tail -F` announces the new file after a rotation but then never reads it (seen with coreutils 9.1).
 */
export function tailCommand(source: Extract<LogSource, { kind: "file" }>, tail: number, follow: boolean): string {
  if (!Number.isInteger(tail) || tail < 1 || tail > MAX_TAIL) throw new RangeError(`tail out of range: ${tail}`);
  if (!/^\/[A-Za-z0-9._/-]+$/.test(source.path) || source.path.includes("..")) {
    throw new RangeError(`not a plain absolute path: ${source.path}`);
  }
  return `tail -n ${tail}${follow ? " -F ---disable-inotify -s 0.5" : ""} -- ${source.path}`;
}
