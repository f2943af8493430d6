import type { CoreServices } from "../../core/mod.ts";

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

/** Runs `command` on a PTY of `conn` (so the PTY's process is the command itself; no login shell echoes first). */
export async function openPtyChannel(
  conn: SshConnection,
  command: string,
  size: { cols: number; rows: number },
): Promise<PtyChannel> {
  return await conn.execStream(command, { term: "xterm-256color", ...size }) as unknown as PtyChannel;
}
