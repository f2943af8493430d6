import type { Buffer } from "node:buffer";
import { AppError } from "../../core/mod.ts";
import { baseName, joinPath, parentOf } from "./paths.ts";
import type { RemoteFs } from "./remote_fs.ts";

/** How `writeAtomic` writes. */
export interface WriteOptions {
  /** Bytes per SFTP write and how many writes may be in flight. */
  chunk: number;
  inflight: number;
  /** Refuse (413) once more than this many bytes arrived; the temp file is removed. */
  maxBytes: number;
  /** Permission bits of a new file (an existing file keeps its own). */
  mode?: number;
  /** Never replace: refuse (409) when something is at `path` by the time the content is in place. */
  exclusive?: boolean;
}

const utf8 = new TextEncoder();

/** The longest start of `name` that fits `max` UTF-8 bytes, never splitting a character. */
function utf8Prefix(name: string, max: number): string {
  let bytes = 0;
  let end = 0;
  for (const ch of name) {
    bytes += utf8.encode(ch).length;
    if (bytes > max) break;
    end += ch.length;
  }
  return name.slice(0, end);
}

/**
 * A temp name beside the target, hidden, unique, and recognisable as ours; at most 226 bytes (the
 * name kept to 200 bytes, not characters), so it fits the 255-byte limit whatever the script.
 */
function tempPathFor(path: string): string {
  const tag = crypto.getRandomValues(new Uint8Array(6)).reduce((s, b) => s + b.toString(16).padStart(2, "0"), "");
  const name = `.${utf8Prefix(baseName(path), 200)}.claworc-${tag}.tmp`;
  return joinPath(parentOf(path), name);
}

/** Moves `temp` to `path` unless something got there first (then 409). */
async function placeNew(fs: RemoteFs, temp: string, path: string): Promise<void> {
  try {
    await fs.rename(temp, path);
  } catch (err) {
    if (await fs.lstatOrNull(path).catch(() => null)) {
      throw new AppError("CONFLICT", `"${baseName(path)}" already exists.`);
    }
    throw err;
  }
}

/** Keeps up to `inflight` writes outstanding; the first failure is thrown by the next call. */
class PipelinedWriter {
  #pending = new Set<Promise<void>>();
  #error: unknown;

  constructor(private readonly fs: RemoteFs, private readonly handle: Buffer, private readonly inflight: number) {}

  async write(data: Uint8Array, position: number): Promise<void> {
    while (this.#pending.size >= this.inflight) await Promise.race(this.#pending);
    if (this.#error) throw this.#error;
    const p: Promise<void> = this.fs.write(this.handle, data, position)
      .catch((err) => void (this.#error ??= err))
      .finally(() => this.#pending.delete(p));
    this.#pending.add(p);
  }

  async flush(): Promise<void> {
    await Promise.all(this.#pending);
    if (this.#error) throw this.#error;
  }
}

/**
 * Writes `source` to `path` on the instance atomically: into a new temp file in the same folder
 * (exclusive create), flushed, given the old file's mode, then renamed over `path` with POSIX
 * rename (or, when `exclusive`, with SFTP's rename, which never replaces). Until that rename nothing
 * at `path` changes; on any failure the temp file is removed and the old content stays. Returns the
 * bytes written.
 */
export async function writeAtomic(
  fs: RemoteFs,
  path: string,
  source: AsyncIterable<Uint8Array>,
  opts: WriteOptions,
): Promise<number> {
  const existing = await fs.lstatOrNull(path);
  if (existing?.isDirectory()) throw new AppError("CONFLICT", `"${baseName(path)}" is a folder.`);
  const mode = existing ? existing.mode & 0o7777 : opts.mode ?? 0o644;
  const temp = tempPathFor(path);
  const handle = await fs.open(temp, "wx", 0o600);
  let open = true;
  let size = 0;
  try {
    const writer = new PipelinedWriter(fs, handle, opts.inflight);
    for await (const data of source) {
      for (let at = 0; at < data.length; at += opts.chunk) {
        const piece = data.subarray(at, Math.min(data.length, at + opts.chunk));
        if (size + piece.length > opts.maxBytes) {
          throw new AppError("PAYLOAD_TOO_LARGE", `The content is larger than ${opts.maxBytes} bytes.`);
        }
        await writer.write(piece, size);
        size += piece.length;
      }
    }
    await writer.flush();
    await fs.fsync(handle);
    await fs.fchmod(handle, mode);
    open = false;
    await fs.close(handle);
    if (opts.exclusive) await placeNew(fs, temp, path);
    else await fs.replace(temp, path);
    return size;
  } catch (err) {
    if (open) await fs.close(handle).catch(() => {});
    await fs.unlink(temp).catch(() => {});
    throw err;
  }
}
