import { AppError } from "../../core/mod.ts";

/** A session id as the API and the WebSocket take it: letters, digits, `-` and `_`, 1 to 32 characters. */
export const SESSION_ID = /^[A-Za-z0-9_-]{1,32}$/;

/** Prefix of every tmux session this plugin makes (others on the same tmux server are ignored). */
const PREFIX = "cw-";

/** The tmux session name of a session id; 400 when the id is not valid. */
export function tmuxName(sessionId: string): string {
  if (!SESSION_ID.test(sessionId)) {
    throw new AppError("BAD_REQUEST", `Invalid session_id "${sessionId}": use 1-32 letters, digits, "-" or "_".`);
  }
  return PREFIX + sessionId;
}

/** The session id of a tmux session name, or null for sessions this plugin did not make. */
export function sessionIdOf(name: string): string | null {
  if (!name.startsWith(PREFIX)) return null;
  const id = name.slice(PREFIX.length);
  return SESSION_ID.test(id) ? id : null;
}

/** A fresh session id (`s-` and 8 hex digits). */
export function newSessionId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  return "s-" + [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}
