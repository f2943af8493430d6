/**
 * The desktop's WebSocket, `GET /api/v1/instances/{id}/desktop/websockify`.
 *
 * - **Binary frames** carry RFB, byte for byte, between the browser and the instance's websockify
 *   (x11vnc behind it). The server frames the browser's half (`rfb_filter.ts`) and drops input
 *   messages (keys, pointer, clipboard...) from every socket but the instance's controller.
 * - **Text frames** are JSON control messages (noVNC itself only sends binary frames; the island
 *   hands noVNC a wrapper that keeps text frames away from it).
 *   - browser → server: `{"type":"take_control"}` (the previous controller, if any, becomes a viewer)
 *     and `{"type":"release_control"}`, at most `MAX_CONTROL_FRAME_CHARS` characters each and
 *     `MAX_CONTROL_FRAMES_PER_SECOND` a second;
 *   - server → browser: `{"type":"control","controller","you","viewers"}` on connect and to every
 *     viewer of the instance whenever it changes: who controls (user name or null), whether that is
 *     this socket, and how many sockets watch.
 * - **Subprotocols**: the browser's offer is passed to websockify (except `base64`, which would carry
 *   RFB in text frames); the answer names the one websockify chose.
 * - **Close codes**: 1000 normal, 1001 server shutting down (reconnect later), 1002 the browser sent
 *   RFB the server cannot frame, 1009 input arrived faster than the instance takes it (or a control frame
 *   too large, or too many control frames), 1011 the desktop connection was lost (reconnect), 4001 sign-in
 *   ended, 4003 access to the instance removed.
 */
export type ServerMessage = { type: "control"; controller: string | null; you: boolean; viewers: number };

/** A control message from the browser. */
export type ClientMessage = { type: "take_control" } | { type: "release_control" };

export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  inputOverflow: 1009,
  error: 1011,
} as const;

/** Longest control (text) frame accepted from a browser, in characters (a control message is about 25). */
export const MAX_CONTROL_FRAME_CHARS = 1024;

/** Most control frames a browser may send in a second (each take or release is audited and broadcast). */
export const MAX_CONTROL_FRAMES_PER_SECOND = 20;

/** Parses a text frame from the browser; null for anything that is not a known control message. */
export function parseClientMessage(text: string): ClientMessage | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (!v || typeof v !== "object") return null;
  const type = (v as Record<string, unknown>).type;
  return type === "take_control" || type === "release_control" ? { type } : null;
}

/** Subprotocol names (RFC 6455 tokens) offered in a `Sec-WebSocket-Protocol` header, minus `base64`. */
export function offeredProtocols(header: string | undefined): string[] {
  if (!header) return [];
  return header.split(",").map((p) => p.trim()).filter((p) => /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/.test(p))
    .filter((p) => p !== "base64").slice(0, 8);
}
