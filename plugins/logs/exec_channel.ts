import { AppError, type CoreServices } from "../../core/mod.ts";

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

interface ExecClient {
  exec(command: string, cb: (err: Error | undefined, channel: ExecChannel) => void): unknown;
}

/**
 * Opens an exec channel on `conn` whose output is read as it comes (the connection's own `exec`
 * collects the whole output, which never ends for `tail -F`).
 *
 * Core's `SshConnection` has no streaming exec yet, so this reaches its ssh2 client: the one place the
 * plugin depends on a core internal. A `SshConnection.execStream(command)` in core should replace it.
 */
export function openExecChannel(conn: SshConnection, command: string): Promise<ExecChannel> {
  const client = (conn as unknown as { client?: ExecClient }).client;
  if (conn.closed || typeof client?.exec !== "function") {
    return Promise.reject(new AppError("SSH_UNAVAILABLE", "The SSH connection is not open."));
  }
  return new Promise((resolve, reject) => {
    try {
      client.exec(command, (err, channel) => {
        if (err) return reject(new AppError("SSH_UNAVAILABLE", `SSH channel failed: ${err.message}`));
        channel.on("error", () => {}); // a channel torn down with its connection must not throw
        resolve(channel);
      });
    } catch (e) {
      reject(new AppError("SSH_UNAVAILABLE", `SSH channel failed: ${(e as Error).message}`));
    }
  });
}
