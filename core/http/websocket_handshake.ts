import { AppError } from "../errors.ts";

/** Whether a comma-separated header value lists `token` (case-insensitive), as `Connection: keep-alive, Upgrade`. */
function lists(value: string | null, token: string): boolean {
  return (value ?? "").split(",").some((part) => part.trim().toLowerCase() === token);
}

/**
 * Refuses (400) a request that is not a whole WebSocket handshake, with the same checks
 * `Deno.upgradeWebSocket` makes. WebSocket routes call it first, before they open anything on the
 * instance: an upgrade that failed after an SSH channel was opened would leave that channel (and
 * what runs at its end) open, and answer 500 for what is the client's mistake.
 */
export function requireWebSocketHandshake(headers: Headers): void {
  const missing = [
    headers.get("upgrade")?.toLowerCase() !== "websocket" && "Upgrade: websocket",
    !lists(headers.get("connection"), "upgrade") && "Connection: Upgrade",
    !headers.get("sec-websocket-key") && "Sec-WebSocket-Key",
  ].filter(Boolean);
  if (missing.length) {
    throw new AppError(
      "BAD_REQUEST",
      `This endpoint speaks WebSocket only; the handshake lacks ${missing.join(", ")}.`,
    );
  }
}
