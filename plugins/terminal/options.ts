/** Options of the terminal plugin (every field has a default in `terminalDefaults`). */
export interface TerminalOptions {
  /** Lines of history each tmux session keeps (its `history-limit`). */
  historyLines: number;
  /** Lines of history replayed to a browser that (re)attaches. */
  replayLines: number;
  /** A session nobody is attached to is closed after this long. */
  reapAfterMs: number;
  /** How often detached sessions are looked for (on instances with a live SSH connection). */
  reapIntervalMs: number;
  /** Output bytes waiting in the WebSocket before the SSH channel is paused. */
  outputHighWater: number;
  /** Output bytes waiting below which the SSH channel is resumed. */
  outputLowWater: number;
  /** Input bytes waiting for the SSH channel before the browser is told to pause typing/pasting. */
  inputHighWater: number;
  /** Input bytes waiting beyond which the socket is closed (1009) instead of dropping input. */
  inputMaxBuffered: number;
  /** The session and access are re-checked this often while a terminal is open. */
  recheckMs: number;
  /**
   * An upgraded socket that has not opened after this long is ended with its PTY channel: a browser
   * that left while the session was prepared gets a socket Deno never opens, closes or fails.
   */
  openTimeoutMs: number;
  /** Largest recording file (when the `terminal_recording` setting is on); output past it is not recorded. */
  recordingMaxBytes: number;
  /** Recorded events are written once this many bytes wait... */
  recordingFlushBytes: number;
  /** ...or this long after the first of them. */
  recordingFlushMs: number;
  /** Recorded bytes waiting for a slow disk beyond which the recording stops (the terminal does not). */
  recordingMaxPendingBytes: number;
  /** How often `terminal_recording_retention_days` is applied besides start-up and setting changes. */
  recordingRetentionIntervalMs: number;
}

export const terminalDefaults = {
  historyLines: 10_000,
  replayLines: 2_000,
  reapAfterMs: 12 * 3600_000,
  reapIntervalMs: 60_000,
  outputHighWater: 1 << 20,
  outputLowWater: 256 << 10,
  inputHighWater: 64 << 10,
  inputMaxBuffered: 4 << 20,
  recheckMs: 30_000,
  openTimeoutMs: 15_000,
  recordingMaxBytes: 50 << 20,
  recordingFlushBytes: 64 << 10,
  recordingFlushMs: 500,
  recordingMaxPendingBytes: 8 << 20,
  recordingRetentionIntervalMs: 3_600_000,
} satisfies TerminalOptions;

/** Terminal sizes outside these bounds are clamped. */
export const SIZE_LIMITS = { minCols: 2, maxCols: 500, minRows: 1, maxRows: 200 } as const;
