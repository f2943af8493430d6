import { api, ApiError } from "../../../islands/_api.ts";

import type { FileEntry } from "../listing.ts";

/** One listing entry, as `GET .../files/browse` returns it. */
export type Entry = FileEntry;

export interface Listing {
  path: string;
  roots: string[];
  entries: Entry[];
}

export interface Content {
  path: string;
  content: string;
  encoding: "utf-8" | "base64";
  size: number;
}

/** The files API of one instance. */
export function filesApi(instanceId: number) {
  const base = `/api/v1/instances/${instanceId}/files`;
  const q = (path: string) => `path=${encodeURIComponent(path)}`;
  return {
    browse: (path?: string) => api<Listing>("GET", `${base}/browse${path ? "?" + q(path) : ""}`),
    read: (path: string) => api<Content>("GET", `${base}/read?${q(path)}`),
    save: (path: string, content: string, exclusive = false) =>
      api<{ path: string }>("POST", `${base}/create`, { path, content, exclusive }),
    mkdir: (path: string) => api<{ path: string }>("POST", `${base}/mkdir`, { path }),
    rename: (oldPath: string, newPath: string) =>
      api<{ path: string }>("POST", `${base}/rename`, { old_path: oldPath, new_path: newPath }),
    remove: (path: string) => api<unknown>("DELETE", `${base}?${q(path)}&recursive=true`),
    downloadUrl: (path: string) => `${base}/download?${q(path)}`,
    upload: (dir: string, file: File, onProgress: (sent: number) => void) =>
      upload(`${base}/upload?${q(dir)}`, file, onProgress),
  };
}

/** Uploads one file as multipart field `file`, reporting bytes sent (XHR: fetch has no upload progress). */
function upload(url: string, file: File, onProgress: (sent: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve();
      let detail = `Upload failed (${xhr.status}).`;
      let code = `HTTP_${xhr.status}`;
      try {
        const body = JSON.parse(xhr.responseText);
        if (typeof body?.detail === "string") detail = body.detail;
        if (typeof body?.code === "string") code = body.code;
      } catch { /* not JSON */ }
      reject(new ApiError(xhr.status, code, detail));
    };
    xhr.onerror = () => reject(new ApiError(0, "NETWORK", "The upload was interrupted; check your connection."));
    const form = new FormData();
    form.append("file", file, file.name);
    xhr.send(form);
  });
}

/** `dir/name` without doubling the slash at the root. */
export function join(dir: string, name: string): string {
  return dir === "/" ? `/${name}` : `${dir}/${name}`;
}

/** The folder part of a path. */
export function parent(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

/** Human-readable size (1024-based), the same on server and client. */
export function formatSize(bytes: number | null): string {
  if (bytes === null) return "—";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let n = bytes;
  let u = 0;
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${n.toFixed(1)} ${units[u]}`;
}

/** Breadcrumbs of `path` below the root that holds it: [{label, path}]. */
export function crumbs(path: string, roots: string[]): { label: string; path: string }[] {
  const root = roots.filter((r) => path === r || path.startsWith(r === "/" ? "/" : r + "/"))
    .sort((a, b) => b.length - a.length)[0];
  if (!root) return [{ label: path, path }];
  const out = [{ label: root, path: root }];
  let at = root;
  for (const part of path.slice(root.length).split("/").filter(Boolean)) {
    at = join(at, part);
    out.push({ label: part, path: at });
  }
  return out;
}
