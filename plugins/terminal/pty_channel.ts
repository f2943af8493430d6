import { AppError, type CoreServices } from "../../core/mod.ts";

/** A live SSH connection of the pool. */
export type SshConnection = Awaited<ReturnType<CoreServices["ssh"]["connect"]>>;

/** The part of an ssh2 channel the terminal uses (a Node duplex stream with a PTY). */
export interface PtyChannel {
  on(event: "data", cb: (chunk: Uint8Array) => void): unknown;
  on(event: "drain", cb: () => void): unknown;
  on(event: "exit", cb: (code: number | null, signal?: string) => void): unknown;
  on(event: "close", cb: () => void): unknown;
  on(event: "error", cb: (e: Error) => void): unknown;
  /** False when the channel's buffer is above its high-water mark (wait for `drain`). */
  write(data: Uint8Array): boolean;
  pause(): unknown;
  resume(): unknown;
  setWindow(rows: number, cols: number, height: number, width: number): unknown;
  close(): unknown;
}

interface PtyClient {
  exec(
    command: string,
    opts: { pty: { term: string; cols: number; rows: number } },
    cb: (err: Error | undefined, channel: PtyChannel) => void,
  ): unknown;
}

/**
 * Runs `command` on a PTY of `conn` (an exec channel with a pseudo-terminal, so the PTY's process is
 * the command itself and no login shell echoes anything first).
 *
 * Core's pool offers `shell()` (an interactive shell) but no command on a PTY, so this reaches the
 * connection's ssh2 client, as `plugins/logs/exec_channel.ts` does; a `SshConnection.execPty` in core
 * should replace it.
 */
export function openPtyChannel(
  conn: SshConnection,
  command: string,
  size: { cols: number; rows: number },
): Promise<PtyChannel> {
  const client = (conn as unknown as { client?: PtyClient }).client;
  if (conn.closed || typeof client?.exec !== "function") {
    return Promise.reject(new AppError("SSH_UNAVAILABLE", "The SSH connection is not open."));
  }
  return new Promise((resolve, reject) => {
    try {
      client.exec(command, { pty: { term: "xterm-256color", ...size } }, (err, channel) => {
        if (err) return reject(new AppError("SSH_UNAVAILABLE", `SSH channel failed: ${err.message}`));
        channel.on("error", () => {}); // a channel torn down with its connection must not throw
        resolve(channel);
      });
    } catch (e) {
      reject(new AppError("SSH_UNAVAILABLE", `SSH channel failed: ${(e as Error).message}`));
    }
  });
}
