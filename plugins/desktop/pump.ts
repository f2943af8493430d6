import type { ChannelWebSocket } from "../../core/mod.ts";
import { CLOSE } from "./protocol.ts";

/** Back-pressure limits of one pump. */
export interface PumpLimits {
  outputHighWater: number;
  outputLowWater: number;
  inputMaxBuffered: number;
}

/** What the pump asks of its owner. */
export interface PumpHooks {
  /** The bytes of a browser frame that may go on to the instance (throws to refuse the stream). */
  filter(bytes: Uint8Array): Uint8Array;
  /** A text frame from the browser (a control message). */
  control(text: string): void;
  /** Ends the session (once) with a close code for the browser. */
  fail(code: number, reason: string): void;
}

/** How often a paused output side looks whether the browser has caught up. */
const DRAIN_POLL_MS = 15;

/**
 * Pumps frames between the browser's WebSocket and websockify's (over the SSH channel), with bounded
 * buffers both ways:
 * - to the browser: while the socket holds more than `outputHighWater` unsent bytes the upstream socket
 *   stops reading its SSH channel (ssh2 then stops granting window, so websockify and x11vnc wait)
 *   until it is down to `outputLowWater`. Frames websockify sends before the browser's socket is open
 *   are held (the RFB banner) and sent on open;
 * - from the browser: binary frames go through `hooks.filter` to the instance. A WebSocket cannot be
 *   paused from the server side, so a browser that keeps sending while more than `inputMaxBuffered`
 *   bytes wait for the channel is disconnected (1009) rather than buffered without bound.
 * Text frames from websockify are not part of RFB over a binary socket and are dropped. Returns a
 * function that stops the pump (idempotent).
 */
export function pump(ws: WebSocket, up: ChannelWebSocket, limits: PumpLimits, hooks: PumpHooks): () => void {
  let stopped = false;
  let paused = false;
  let poll: ReturnType<typeof setTimeout> | undefined;
  let early: Uint8Array[] | null = [];
  let earlyBytes = 0;

  const waitForBrowser = () => {
    poll = setTimeout(() => {
      poll = undefined;
      if (stopped) return;
      if (ws.bufferedAmount > limits.outputLowWater) return waitForBrowser();
      paused = false;
      up.resume();
    }, DRAIN_POLL_MS);
  };
  const toBrowser = (bytes: Uint8Array) => {
    ws.send(bytes);
    if (!paused && ws.bufferedAmount > limits.outputHighWater) {
      paused = true;
      up.pause();
      waitForBrowser();
    }
  };

  up.onmessage = (data) => {
    if (stopped || typeof data === "string") return;
    if (early) {
      early.push(data);
      earlyBytes += data.length;
      if (earlyBytes > limits.outputHighWater) up.pause();
      return;
    }
    if (ws.readyState === WebSocket.OPEN) toBrowser(data);
  };
  const onOpen = () => {
    const held = early ?? [];
    early = null;
    for (const bytes of held) if (!stopped) toBrowser(bytes);
    if (!paused) up.resume();
  };
  const onMessage = (e: MessageEvent) => {
    if (stopped) return;
    if (typeof e.data === "string") return hooks.control(e.data);
    if (!(e.data instanceof ArrayBuffer)) return;
    let bytes: Uint8Array;
    try {
      bytes = hooks.filter(new Uint8Array(e.data));
    } catch (err) {
      return hooks.fail(CLOSE.protocolError, err instanceof Error ? err.message : String(err));
    }
    if (bytes.length) up.send(bytes);
    if (up.bufferedAmount > limits.inputMaxBuffered) {
      hooks.fail(CLOSE.inputOverflow, "Input arrived faster than the desktop takes it.");
    }
  };
  if (ws.readyState === WebSocket.OPEN) onOpen();
  else ws.addEventListener("open", onOpen, { once: true });
  ws.addEventListener("message", onMessage);
  return () => {
    stopped = true;
    early = null;
    if (poll !== undefined) clearTimeout(poll);
    ws.removeEventListener("open", onOpen);
    ws.removeEventListener("message", onMessage);
  };
}
