/**
 * The terminal's WebSocket protocol, `GET /api/v1/instances/{id}/terminal[?session_id=&cols=&rows=]`.
 *
 * - **Binary frames** carry terminal bytes: browser → server is input to the PTY, server → browser is
 *   output. After a (re)attach the first binary bytes are the replay: the session's last lines of
 *   history and screen as tmux renders them (whole lines with their colours), then live output.
 * - **Text frames** are JSON control messages.
 *   - server → browser:
 *     - `{"type":"session","session_id","created","cols","rows","replay_bytes","recording"}` once, first;
 *       `recording` is true when this socket's output is being recorded (the `terminal_recording`
 *       setting was on when it opened): an asciicast v2 file of what the server sends, replay included,
 *       and resizes; input is never recorded;
 *     - `{"type":"pause"}` / `{"type":"resume"}`: input flow control. While paused the browser keeps
 *       input in its own queue; the server holds what it already got (nothing is dropped) and closes with
 *       1009 if a client ignores `pause` beyond `inputMaxBuffered` bytes;
 *     - `{"type":"resized","cols","rows"}` after a resize (clamped to `SIZE_LIMITS`);
 *     - `{"type":"exit","code","session_ended"}` when the PTY ends, then the socket closes: with
 *       `session_ended` true the shell exited (do not reattach), false means detached (reattach).
 *   - browser → server: `{"type":"resize","cols","rows"}`, at most `MAX_CONTROL_FRAME_CHARS` characters
 *     each and `MAX_CONTROL_FRAMES_PER_SECOND` a second.
 * - **Close codes**: 1000 session ended, 1001 server shutting down (reattach later), 1011 error, 1009 input overflow
 *   (input past `inputMaxBuffered`, a control frame too large, or too many control frames), 4001 sign-in ended,
 *   4003 access to the instance removed (or the instance deleted), 4004 session closed by someone (DELETE).
 */
export type ServerMessage =
  | {
    type: "session";
    session_id: string;
    created: boolean;
    cols: number;
    rows: number;
    replay_bytes: number;
    recording: boolean;
  }
  | { type: "pause" }
  | { type: "resume" }
  | { type: "resized"; cols: number; rows: number }
  | { type: "exit"; code: number | null; session_ended: boolean };

/** A control message from the browser. */
export type ClientMessage = { type: "resize"; cols: number; rows: number };

/** Close codes used by the server. */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  error: 1011,
  inputOverflow: 1009,
  instanceGone: 4003,
  killed: 4004,
} as const;

/** Longest control (text) frame accepted from a browser, in characters (a resize is about 40). */
export const MAX_CONTROL_FRAME_CHARS = 4096;

/** Most control frames a browser may send in a second (xterm.js resizes only when cols or rows change). */
export const MAX_CONTROL_FRAMES_PER_SECOND = 100;

/** Parses a text frame from the browser; null for anything that is not a known control message. */
export function parseClientMessage(text: string): ClientMessage | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (!v || typeof v !== "object") return null;
  const m = v as Record<string, unknown>;
  if (m.type === "resize" && typeof m.cols === "number" && typeof m.rows === "number") {
    return { type: "resize", cols: m.cols, rows: m.rows };
  }
  return null;
}

/** The replay as terminal bytes: CRLF line ends, attributes reset at the end, no trailing newline. */
export function replayBytes(capture: string): Uint8Array {
  const text = capture.replace(/\n$/, "");
  if (!text) return new Uint8Array(0);
  return new TextEncoder().encode(text.replace(/\n/g, "\x1b[0m\r\n") + "\x1b[0m");
}
