import { encodeBase64 } from "./base64.ts";
import { AppError } from "../../core/mod.ts";
import type { RemoteFs } from "./remote_fs.ts";

/** A file's content for the editor: UTF-8 text as is, anything else base64 (binary safe). */
export interface FileContent {
  path: string;
  content: string;
  encoding: "utf-8" | "base64";
  size: number;
  mode: number;
  mtime: string;
}

/** Reads a whole (small) regular file; 413 beyond `maxBytes`, so big files go through download. */
export async function readFileContent(fs: RemoteFs, path: string, shown: string, maxBytes: number, chunk: number) {
  const st = await fs.stat(path);
  if (!st.isFile()) throw new AppError("VALIDATION_FAILED", `"${shown}" is not a regular file.`);
  if (st.size > maxBytes) {
    throw new AppError(
      "PAYLOAD_TOO_LARGE",
      `"${shown}" is ${st.size} bytes; files over ${maxBytes} bytes can only be downloaded.`,
    );
  }
  const handle = await fs.open(path, "r");
  const parts: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const data = await fs.read(handle, chunk, total);
      if (data.length === 0) break;
      total += data.length;
      if (total > maxBytes) throw new AppError("PAYLOAD_TOO_LARGE", `"${shown}" grew beyond ${maxBytes} bytes.`);
      parts.push(data.slice());
    }
  } finally {
    await fs.close(handle).catch(() => {});
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const p of parts) bytes.set(p, (at += p.length) - p.length);
  let content: string;
  let encoding: FileContent["encoding"] = "utf-8";
  try {
    content = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    content = encodeBase64(bytes);
    encoding = "base64";
  }
  const result: FileContent = {
    path: shown,
    content,
    encoding,
    size: total,
    mode: st.mode & 0o7777,
    mtime: new Date(st.mtime * 1000).toISOString(),
  };
  return result;
}
