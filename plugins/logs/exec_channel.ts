import type { CoreServices } from "../../core/mod.ts";

/** A live SSH connection of the pool. */
export type SshConnection = Awaited<ReturnType<CoreServices["ssh"]["connect"]>>;

/** The part of an ssh2 exec channel a log stream uses. */
export interface ExecChannel {
  on(event: "data", cb: (chunk: Uint8Array) => void): unknown;
  on(event: "close", cb: () => void): unknown;
  on(event: "error", cb: (e: Error) => void): unknown;
  stderr: { on(event: "data", cb: (chunk: Uint8Array) => void): unknown };
  /** Sends a signal to the remote command (OpenSSH honours it for exec sessions). */
  signal(name: string): unknown;
  close(): unknown;
}

/** Opens an exec channel on `conn` whose output is read as it comes (`exec` collects it all, which never ends for `tail -F`). */
export async function openExecChannel(conn: SshConnection, command: string): Promise<ExecChannel> {
  return await conn.execStream(command) as unknown as ExecChannel;
}
