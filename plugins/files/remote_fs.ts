import { Buffer } from "node:buffer";
import { AppError, type CoreServices } from "../../core/mod.ts";

/** ssh2's SFTP client, as the pool hands it out. */
type SFTPWrapper = Awaited<ReturnType<CoreServices["ssh"]["sftp"]>>;

/** SFTP status codes (draft-ietf-secsh-filexfer-02) that map to an answer a client can act on. */
const NO_SUCH_FILE = 2;
const PERMISSION_DENIED = 3;
const FAILURE = 4;
/** What OpenSSH's sftp-server answers for EINVAL and ENAMETOOLONG. */
const BAD_MESSAGE = 5;

/** File attributes as SFTP reports them (times in seconds). */
export interface RemoteStats {
  mode: number;
  size: number;
  mtime: number;
  isDirectory(): boolean;
  isFile(): boolean;
  isSymbolicLink(): boolean;
}

export interface RemoteEntry {
  filename: string;
  attrs: RemoteStats;
}

/**
 * Turns an SFTP error into an AppError: missing → 404, refused → 403, a name or path the instance
 * rejects (too long, invalid) → 400, failure → 409, else 500.
 */
export function sftpError(err: unknown, what: string): AppError {
  if (err instanceof AppError) return err;
  const code = (err as { code?: unknown })?.code;
  const reason = (err as Error)?.message ?? String(err);
  if (code === NO_SUCH_FILE) return new AppError("NOT_FOUND", `Cannot ${what}: no such file or folder.`);
  if (code === PERMISSION_DENIED) {
    return new AppError("FORBIDDEN", `Cannot ${what}: permission denied on the instance.`);
  }
  if (code === BAD_MESSAGE) {
    return new AppError("VALIDATION_FAILED", `Cannot ${what}: the instance rejects the name or path (too long?).`);
  }
  if (code === FAILURE) return new AppError("CONFLICT", `Cannot ${what}: the instance refused (${reason}).`);
  return new AppError("INTERNAL", `Cannot ${what}: ${reason}.`);
}

/** True for an SFTP "no such file" error. */
export function isMissing(err: unknown): boolean {
  return (err as { code?: unknown })?.code === NO_SUCH_FILE;
}

type Cb<T> = (err: Error | undefined | null, value: T) => void;

/**
 * The SFTP calls the plugin uses, as promises, on one SFTP channel of the instance's shared SSH
 * connection. Errors are the raw SFTP errors (`code` = status); callers map them with `sftpError`.
 */
export class RemoteFs {
  constructor(private readonly sftp: SFTPWrapper) {}

  #call<T>(fn: (cb: Cb<T>) => void): Promise<T> {
    return new Promise((resolve, reject) => fn((err, value) => err ? reject(err) : resolve(value)));
  }

  realpath(path: string): Promise<string> {
    return this.#call((cb) => this.sftp.realpath(path, cb));
  }
  stat(path: string): Promise<RemoteStats> {
    return this.#call((cb) => this.sftp.stat(path, cb));
  }
  lstat(path: string): Promise<RemoteStats> {
    return this.#call((cb) => this.sftp.lstat(path, cb));
  }
  /** `lstat`, or null when nothing is there. */
  async lstatOrNull(path: string): Promise<RemoteStats | null> {
    try {
      return await this.lstat(path);
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }
  readdir(path: string): Promise<RemoteEntry[]> {
    return this.#call((cb) => this.sftp.readdir(path, cb));
  }
  readlink(path: string): Promise<string> {
    return this.#call((cb) => this.sftp.readlink(path, cb));
  }
  mkdir(path: string, mode = 0o755): Promise<void> {
    return this.#call((cb) => this.sftp.mkdir(path, { mode }, (err) => cb(err, undefined)));
  }
  rmdir(path: string): Promise<void> {
    return this.#call((cb) => this.sftp.rmdir(path, (err) => cb(err, undefined)));
  }
  unlink(path: string): Promise<void> {
    return this.#call((cb) => this.sftp.unlink(path, (err) => cb(err, undefined)));
  }
  /** Plain SFTP rename: fails when `to` exists (never replaces). */
  rename(from: string, to: string): Promise<void> {
    return this.#call((cb) => this.sftp.rename(from, to, (err) => cb(err, undefined)));
  }
  /** POSIX rename(2) (OpenSSH extension): atomically replaces `to`. */
  replace(from: string, to: string): Promise<void> {
    return this.#call((cb) => this.sftp.ext_openssh_rename(from, to, (err) => cb(err, undefined)));
  }
  /** Opens a file: "r" to read, "wx" to create a new one exclusively. */
  open(path: string, flags: "r" | "wx", mode = 0o644): Promise<Buffer> {
    return this.#call((cb) => this.sftp.open(path, flags, { mode }, cb));
  }
  close(handle: Buffer): Promise<void> {
    return this.#call((cb) => this.sftp.close(handle, (err) => cb(err, undefined)));
  }
  fchmod(handle: Buffer, mode: number): Promise<void> {
    return this.#call((cb) => this.sftp.fchmod(handle, mode, (err) => cb(err, undefined)));
  }
  /** Flushes a written file to disk (OpenSSH extension); a server without it is not an error. */
  async fsync(handle: Buffer): Promise<void> {
    try {
      await this.#call((cb) => this.sftp.ext_openssh_fsync(handle, (err) => cb(err, undefined)));
    } catch (err) {
      if (!/not supported|unsupported/i.test(String(err))) throw err;
    }
  }
  /** Reads up to `length` bytes at `position`; an empty buffer at end of file. */
  read(handle: Buffer, length: number, position: number): Promise<Uint8Array> {
    const buf = Buffer.allocUnsafe(length);
    return this.#call<number>((cb) => this.sftp.read(handle, buf, 0, length, position, (err, n) => cb(err, n)))
      .then((n) => new Uint8Array(buf.buffer, buf.byteOffset, n));
  }
  write(handle: Buffer, data: Uint8Array, position: number): Promise<void> {
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    return this.#call((cb) => this.sftp.write(handle, buf, 0, buf.length, position, (err) => cb(err, undefined)));
  }
  /** Ends the SFTP channel (the SSH connection stays). */
  end(): void {
    try {
      this.sftp.end();
    } catch { /* already closed */ }
  }
}
