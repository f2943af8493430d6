import type { CoreServices } from "../../core/mod.ts";
import { Confiner } from "./confine.ts";
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

/** Runs `fn` on a fresh session and always ends it. */
export async function withSession<T>(
  ssh: CoreServices["ssh"],
  instanceId: number,
  roots: readonly string[],
  fn: (s: FilesSession) => Promise<T>,
): Promise<T> {
  const s = await openSession(ssh, instanceId, roots);
  try {
    return await fn(s);
  } finally {
    s.end();
  }
}
