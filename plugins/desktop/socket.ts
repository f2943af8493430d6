import type { Context } from "hono";
import {
  accessLost,
  actorOf,
  type ChannelWebSocket,
  type CoreServices,
  frameBudget,
  openChannelWebSocket,
  type OpenConnections,
  readSessionCookie,
  requireWebSocketHandshake,
} from "../../core/mod.ts";
import type { DesktopControl, Viewer } from "./control.ts";
import type { DesktopOptions } from "./options.ts";
import {
  CLOSE,
  MAX_CONTROL_FRAME_CHARS,
  MAX_CONTROL_FRAMES_PER_SECOND,
  offeredProtocols,
  parseClientMessage,
  type ServerMessage,
} from "./protocol.ts";
import { pump } from "./pump.ts";
import { RfbInputFilter } from "./rfb_filter.ts";

/** The services a desktop socket uses. */
export type DesktopServices = Pick<CoreServices, "ssh" | "instances" | "sessions" | "audit">;

/**
 * Opens a direct-tcpip channel to the instance's websockify, speaks WebSocket to it over that channel
 * (passing on the browser's subprotocol offer), then upgrades the browser's request with the
 * subprotocol websockify chose, and pumps frames between the two (`pump.ts`) with the browser's RFB
 * filtered by control (`rfb_filter.ts`, `control.ts`). Anything that fails with an HTTP status (bad
 * request, SSH down, websockify refusing) fails before the upgrade. One channel per browser socket;
 * either side closing closes the other.
 */
export async function openDesktop(
  c: Context,
  s: DesktopServices,
  req: { instanceId: number; user: { id: number; username: string; role: "admin" | "user" } },
  opts: DesktopOptions,
  control: DesktopControl,
  open: OpenConnections,
): Promise<Response> {
  requireWebSocketHandshake(c.req.raw.headers);
  const { instanceId, user } = req;
  const token = readSessionCookie(c) ?? "";
  const actor = actorOf(c);
  const target = `instance:${instanceId}`;
  const protocols = offeredProtocols(c.req.header("sec-websocket-protocol"));

  // Not audited when it fails: the island retries every few seconds while an instance is down.
  const channel = await s.ssh.openTunnel(instanceId, opts.tunnel);
  const up: ChannelWebSocket = await openChannelWebSocket(channel, {
    host: opts.host,
    path: opts.path,
    protocols,
    maxMessageBytes: opts.maxMessageBytes,
    timeoutMs: opts.handshakeTimeoutMs,
  });

  let upgraded: { socket: WebSocket; response: Response };
  try {
    upgraded = Deno.upgradeWebSocket(c.req.raw, up.protocol ? { protocol: up.protocol } : {});
  } catch (e) {
    up.close(CLOSE.normal); // and with it the channel: no browser socket will ever end it
    throw e;
  }
  const { socket, response } = upgraded;
  socket.binaryType = "arraybuffer";
  s.audit.record({ actor, action: "desktop.open", target, instanceId, details: { protocol: up.protocol || null } });

  const viewer: Viewer = {
    instanceId,
    userName: user.username,
    send: (m: ServerMessage) => {
      if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(m));
    },
  };
  const filter = new RfbInputFilter();
  let ended = false;

  const auditControl = (action: "take" | "release", details: Record<string, unknown> = {}) =>
    s.audit.record({ actor, action: "desktop.control", target, instanceId, details: { action, ...details } });

  /** Ends both sides once: frees control, closes websockify's socket (and so the channel) and the browser's. */
  const finish = (code: number, reason: string) => {
    if (ended) return;
    ended = true;
    forget();
    clearInterval(recheck);
    clearTimeout(opening);
    stopPump();
    if (control.leave(viewer)) auditControl("release", { reason: "disconnected" });
    up.close(code === CLOSE.goingAway ? CLOSE.goingAway : CLOSE.normal);
    if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) {
      try {
        socket.close(code, reason);
      } catch { /* not yet open */ }
    }
  };

  const forget = open.add(() => finish(CLOSE.goingAway, "The control plane is shutting down."));
  const recheck = setInterval(() => {
    const lost = accessLost(s, token, instanceId);
    if (lost) finish(lost.code, lost.reason);
  }, opts.recheckMs);
  // A browser that left before its answer (closed while the channel opened) gets no socket, and Deno
  // never opens, closes or fails the one upgraded for it: nothing else would end websockify's socket.
  const opening = setTimeout(() => finish(CLOSE.error, "The socket never opened."), opts.handshakeTimeoutMs);

  const controlBudget = frameBudget(MAX_CONTROL_FRAMES_PER_SECOND);
  const stopPump = pump(socket, up, opts, {
    filter: (bytes) => filter.push(bytes, control.isController(viewer)),
    control: (text) => {
      if (text.length > MAX_CONTROL_FRAME_CHARS) return finish(CLOSE.inputOverflow, "Control frame too large.");
      if (!controlBudget()) return finish(CLOSE.inputOverflow, "Too many control frames.");
      const m = parseClientMessage(text);
      if (m?.type === "take_control") {
        const previous = control.take(viewer);
        auditControl("take", previous ? { from: previous } : {});
      } else if (m?.type === "release_control" && control.release(viewer)) {
        auditControl("release");
      }
    },
    fail: finish,
  });
  socket.addEventListener("open", () => (clearTimeout(opening), control.join(viewer)), { once: true });
  socket.addEventListener("close", () => finish(CLOSE.normal, "browser closed"));
  socket.addEventListener("error", () => finish(CLOSE.error, "socket error"));
  up.onclose = (code) =>
    finish(
      code === 1000 ? CLOSE.normal : CLOSE.error,
      code === 1000 ? "The desktop closed the connection." : "The desktop connection was lost.",
    );
  return response;
}
