import { join } from "node:path";
import { AppError } from "../../core/mod.ts";
import { type AsciicastHeader, AsciicastWriter, type AsciicastWriterOptions } from "./asciicast.ts";

/**
 * A recording id: `<session>-<UTC time>-<8 hex>`, always made here (never taken from a request as a
 * path); the file is `<root>/<instance id>/<id>.cast`.
 */
export const RECORDING_ID = /^([A-Za-z0-9_-]{1,32})-(\d{8}T\d{6}Z)-([0-9a-f]{8})$/;

/** One recording as the API lists it. */
export interface RecordingInfo {
  id: string;
  session_id: string;
  /** Who was at the terminal (null when the header cannot be read). */
  user: string | null;
  user_id: number | null;
  started_at: string;
  bytes: number;
  /** Time of the last event, in seconds. */
  duration_s: number;
  /** Still being written. */
  active: boolean;
}

/** Who and what a new recording is of. */
export interface RecordingSubject {
  instanceId: number;
  instanceName: string;
  sessionId: string;
  user: { id: number; username: string };
  cols: number;
  rows: number;
}

/** A recording being made; none of its methods throws. */
export interface Recording {
  id: string;
  output(chunk: Uint8Array): void;
  resize(cols: number, rows: number): void;
  /** Writes what waits and closes the file. */
  close(): Promise<void>;
}

/** Writer limits plus where failures are reported. */
export type RecordingLimits = Omit<AsciicastWriterOptions, "now" | "onError">;

/** Bytes read from a file's start for its header, and from its end for the last event. */
const HEADER_MAX = 16 << 10;
const TAIL_MAX = 256 << 10;

/**
 * The terminal recordings in the data folder: made per terminal socket, listed and read per
 * instance, removed on request, by retention (files untouched for N days) and with their instance.
 */
export class Recordings {
  /** Recordings being written, by file path. */
  #active = new Map<string, Recording>();

  constructor(
    private readonly root: string,
    private readonly limits: RecordingLimits,
    private readonly now: () => number,
    private readonly warn: (msg: string, fields: Record<string, unknown>) => void,
  ) {}

  /** Starts a recording; null (after a warning) when its file cannot be made, so the terminal opens anyway. */
  async start(s: RecordingSubject): Promise<Recording | null> {
    const dir = this.#dir(s.instanceId);
    const started = this.now();
    const id = `${s.sessionId}-${compactUtc(started)}-${randomHex()}`;
    const path = join(dir, `${id}.cast`);
    let file: Deno.FsFile;
    try {
      await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
      file = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
    } catch (e) {
      this.warn("terminal recording not started", { path, error: (e as Error).message });
      return null;
    }
    const header: AsciicastHeader = {
      version: 2,
      width: s.cols,
      height: s.rows,
      timestamp: Math.floor(started / 1000),
      title: `${s.user.username} in terminal session ${s.sessionId} on ${s.instanceName}`,
      env: {
        TERM: "xterm-256color",
        CLAWORC_USER: s.user.username,
        CLAWORC_USER_ID: String(s.user.id),
        CLAWORC_INSTANCE: s.instanceName,
        CLAWORC_INSTANCE_ID: String(s.instanceId),
        CLAWORC_SESSION: s.sessionId,
      },
    };
    const writer = new AsciicastWriter(file, header, {
      ...this.limits,
      onError: (e) => this.warn("terminal recording failed", { path, error: e.message }),
    });
    // The header is on disk before the terminal opens, so the recording is listed with its owner at once.
    await writer.flush();
    const recording: Recording = {
      id,
      output: (chunk) => writer.output(chunk),
      resize: (cols, rows) => writer.resize(cols, rows),
      close: () => writer.close().finally(() => this.#active.delete(path)),
    };
    this.#active.set(path, recording);
    return recording;
  }

  /** Finishes every recording being written (at shutdown, after the sockets ended). */
  async closeAll(): Promise<void> {
    await Promise.all([...this.#active.values()].map((r) => r.close()));
  }

  /** The instance's recordings, newest first; `owner` limits them to that user's own. */
  async list(instanceId: number, owner?: { id: number; username: string }): Promise<RecordingInfo[]> {
    const out: RecordingInfo[] = [];
    for (const id of await this.#ids(instanceId)) {
      const info = await this.#info(instanceId, id);
      if (info && (!owner || isOwner(info, owner))) out.push(info);
    }
    return out.sort((a, b) => b.started_at.localeCompare(a.started_at) || b.id.localeCompare(a.id));
  }

  /**
   * One recording and its file path: 400 for an id that is not one of ours, 404 when it does not exist
   * or (with `owner`) belongs to someone else, so a user cannot tell the two apart.
   */
  async get(
    instanceId: number,
    id: string,
    owner?: { id: number; username: string },
  ): Promise<{ info: RecordingInfo; path: string }> {
    if (!RECORDING_ID.test(id)) {
      throw new AppError("BAD_REQUEST", `Invalid recording id "${id.slice(0, 80)}".`);
    }
    const info = await this.#info(instanceId, id);
    if (!info || (owner && !isOwner(info, owner))) throw new AppError("NOT_FOUND", `No recording "${id}".`);
    return { info, path: this.#path(instanceId, id) };
  }

  async remove(instanceId: number, id: string): Promise<void> {
    await Deno.remove(this.#path(instanceId, id)).catch(ignoreNotFound);
  }

  /** Deletes every recording of an instance (it was deleted). */
  async removeInstance(instanceId: number): Promise<void> {
    await Deno.remove(this.#dir(instanceId), { recursive: true }).catch(ignoreNotFound);
  }

  /** Deletes recordings not written to for `days` days (not those being written); returns how many. */
  async purgeOlderThan(days: number): Promise<number> {
    const cutoff = this.now() - days * 86_400_000;
    let removed = 0;
    for await (const d of readDir(this.root)) {
      if (!d.isDirectory || !/^[1-9]\d*$/.test(d.name)) continue;
      for (const id of await this.#ids(Number(d.name))) {
        const path = this.#path(Number(d.name), id);
        if (this.#active.has(path)) continue;
        const st = await Deno.lstat(path).catch(() => null);
        if (!st?.isFile || (st.mtime?.getTime() ?? 0) >= cutoff) continue;
        await Deno.remove(path).then(() => removed++, ignoreNotFound);
      }
    }
    return removed;
  }

  #dir(instanceId: number): string {
    if (!Number.isSafeInteger(instanceId) || instanceId < 1) throw new Error(`Bad instance id ${instanceId}`);
    return join(this.root, String(instanceId));
  }

  /** Only ever a name matching `RECORDING_ID` inside the instance's folder. */
  #path(instanceId: number, id: string): string {
    if (!RECORDING_ID.test(id)) throw new Error(`Bad recording id ${id}`);
    return join(this.#dir(instanceId), `${id}.cast`);
  }

  async #ids(instanceId: number): Promise<string[]> {
    const ids: string[] = [];
    for await (const f of readDir(this.#dir(instanceId))) {
      const id = f.name.endsWith(".cast") ? f.name.slice(0, -5) : "";
      if (f.isFile && RECORDING_ID.test(id)) ids.push(id);
    }
    return ids;
  }

  /** Reads a recording's header and last event time; null when it is not a regular file of ours. */
  async #info(instanceId: number, id: string): Promise<RecordingInfo | null> {
    const path = this.#path(instanceId, id);
    // Before any I/O: a recording that finishes meanwhile is reported as it was when its size was taken.
    const active = this.#active.has(path);
    const st = await Deno.lstat(path).catch(() => null);
    if (!st?.isFile) return null;
    const header = parseHeader(await readSlice(path, 0, Math.min(st.size, HEADER_MAX)));
    const session = RECORDING_ID.exec(id)!;
    const userId = Number(header?.env?.CLAWORC_USER_ID);
    return {
      id,
      session_id: session[1],
      user: header?.env?.CLAWORC_USER ?? null,
      user_id: Number.isSafeInteger(userId) ? userId : null,
      started_at: header
        ? new Date(header.timestamp * 1000).toISOString()
        : session[2].replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, "$1-$2-$3T$4:$5:$6.000Z"),
      bytes: st.size,
      duration_s: lastTime(await readSlice(path, Math.max(0, st.size - TAIL_MAX), Math.min(st.size, TAIL_MAX))),
      active,
    };
  }
}

/** Users match by id and name (ids of deleted users can be given again). */
function isOwner(info: RecordingInfo, owner: { id: number; username: string }): boolean {
  return info.user_id === owner.id && info.user?.toLowerCase() === owner.username.toLowerCase();
}

/** The header of a cast's first line, or null. */
export function parseHeader(text: string): AsciicastHeader | null {
  const nl = text.indexOf("\n");
  try {
    const h = JSON.parse(nl < 0 ? text : text.slice(0, nl));
    if (h?.version !== 2 || typeof h.timestamp !== "number") return null;
    return h as AsciicastHeader;
  } catch {
    return null;
  }
}

/** The time of the last whole event line in `tail` (0 when there is none). */
export function lastTime(tail: string): number {
  const lines = tail.split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    if (!lines[i].startsWith("[")) continue;
    try {
      const e = JSON.parse(lines[i]);
      if (Array.isArray(e) && typeof e[0] === "number") return e[0];
    } catch { /* a partial line at the window's start */ }
  }
  return 0;
}

/** `20260131T235959Z` for a time in ms. */
export function compactUtc(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, "Z").replace(/[-:]/g, "");
}

function randomHex(): string {
  return [...crypto.getRandomValues(new Uint8Array(4))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function readSlice(path: string, offset: number, max: number): Promise<string> {
  using file = await Deno.open(path, { read: true });
  await file.seek(offset, Deno.SeekMode.Start);
  const buf = new Uint8Array(max);
  let n = 0;
  while (n < max) {
    const got = await file.read(buf.subarray(n));
    if (got === null) break;
    n += got;
  }
  return new TextDecoder().decode(buf.subarray(0, n));
}

async function* readDir(path: string): AsyncGenerator<Deno.DirEntry> {
  try {
    yield* Deno.readDir(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

function ignoreNotFound(e: unknown): void {
  if (!(e instanceof Deno.errors.NotFound)) throw e;
}
