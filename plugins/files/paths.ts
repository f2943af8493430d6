import { AppError } from "../../core/mod.ts";

/** Linux limits: a name is at most 255 bytes, a path at most 4096 (PATH_MAX, with its NUL). */
export const MAX_NAME_BYTES = 255;
export const MAX_PATH_BYTES = 4095;

const utf8 = new TextEncoder();

/**
 * Checks one file name (no slash, not `.` or `..`, no NUL, at most 255 bytes); 400 otherwise. Used
 * for upload file names and the last component of every path.
 */
export function checkName(name: string, what = "file name"): string {
  if (name === "" || name === "." || name === "..") throw invalid(`The ${what} "${name}" is not allowed.`);
  if (name.includes("/")) throw invalid(`The ${what} "${name}" must not contain "/".`);
  if (name.includes("\0")) throw invalid(`The ${what} must not contain a NUL byte.`);
  if (utf8.encode(name).length > MAX_NAME_BYTES) {
    throw invalid(`The ${what} is longer than ${MAX_NAME_BYTES} bytes.`);
  }
  return name;
}

/**
 * Normalizes a path as typed by a client: absolute, no NUL, no `..` component (refused rather than
 * resolved, so nothing lexical can climb out of a root), `.` and repeated slashes dropped, no
 * trailing slash. Throws 400 VALIDATION_FAILED otherwise. Symlinks are resolved later, on the instance.
 */
export function normalizePath(raw: string): string {
  if (typeof raw !== "string" || raw === "") throw invalid("The path is empty.");
  if (raw.includes("\0")) throw invalid("The path must not contain a NUL byte.");
  if (!raw.startsWith("/")) throw invalid(`The path "${raw}" must be absolute (start with "/").`);
  if (utf8.encode(raw).length > MAX_PATH_BYTES) throw invalid(`The path is longer than ${MAX_PATH_BYTES} bytes.`);
  const parts: string[] = [];
  for (const part of raw.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") throw invalid(`The path "${raw}" must not contain "..".`);
    parts.push(checkName(part, "path component"));
  }
  return "/" + parts.join("/");
}

/** True when `path` is `root` or lies below it (both normalized). */
export function isWithin(path: string, root: string): boolean {
  if (root === "/") return true;
  return path === root || path.startsWith(root + "/");
}

/** The folder part of a normalized path (`/` for `/x`). */
export function parentOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

/** The last component of a normalized path (`""` for `/`). */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** `dir` + `/` + `name`, without doubling the slash at the root. */
export function joinPath(dir: string, name: string): string {
  return dir === "/" ? `/${name}` : `${dir}/${name}`;
}

function invalid(message: string): AppError {
  return new AppError("VALIDATION_FAILED", message);
}
