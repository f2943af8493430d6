import type { CoreServices } from "../../core/mod.ts";
import { Confiner } from "./confine.ts";
import type { FilesDeps } from "./deps.ts";
import { RemoteFs } from "./remote_fs.ts";

/** One SFTP channel on the instance's shared connection, with the confinement for its roots. */
export interface FilesSession {
  fs: RemoteFs;
  confiner: Confiner;
  /** Ends the SFTP channel (idempotent); the SSH connection stays for other features. */
  end(): void;
}

/** Opens an SFTP channel on the instance's current connection (connecting first when needed). */
export async function openSession(ssh: CoreServices["ssh"], instanceId: number, roots: readonly string[]) {
  const fs = new RemoteFs(await ssh.sftp(instanceId));
  const session: FilesSession = { fs, confiner: new Confiner(fs, roots), end: () => fs.end() };
  return session;
}

/**
 * A route's session: an instance that does not exist is a 404 INSTANCE_NOT_FOUND before the pool is
 * asked to connect to it (which it would try, and record, for any id).
 */
export async function openInstanceSession({ ssh, instances, opts }: FilesDeps, instanceId: number) {
  instances.get(instanceId);
  return await openSession(ssh, instanceId, opts.roots);
}

/** Runs `fn` on a fresh session of a route and always ends it. */
export async function withSession<T>(
  deps: FilesDeps,
  instanceId: number,
  fn: (s: FilesSession) => Promise<T>,
): Promise<T> {
  const s = await openInstanceSession(deps, instanceId);
  try {
    return await fn(s);
  } finally {
    s.end();
  }
}
