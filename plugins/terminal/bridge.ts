import type { PtyChannel } from "./pty_channel.ts";
import { CLOSE, type ServerMessage } from "./protocol.ts";

/** Back-pressure limits of one bridge. */
export interface BridgeLimits {
  outputHighWater: number;
  outputLowWater: number;
  inputHighWater: number;
  inputMaxBuffered: number;
}

/** How often a paused output side looks whether the browser has caught up. */
const DRAIN_POLL_MS = 15;

/**
 * Pumps bytes between a WebSocket and a PTY channel, without loss and with bounded buffers:
 * - output: when the socket holds more than `outputHighWater` unsent bytes the channel is paused (ssh2
 *   stops granting window, so the remote program blocks on write) until it is down to `outputLowWater`;
 * - input: what the browser sends is written to the channel; when the channel's buffer passes
 *   `inputHighWater` the browser is told to `pause` (and `resume` on drain). A client that keeps
 *   sending past `inputMaxBuffered` is disconnected (1009), never silently truncated.
 * `tap` sees every output chunk sent to the browser (the recording); its failures are its own.
 * Returns a function that stops the pump (idempotent).
 */
export function bridge(
  ws: WebSocket,
  ch: PtyChannel,
  limits: BridgeLimits,
  tap?: (chunk: Uint8Array) => void,
): () => void {
  let stopped = false;
  let outputPaused = false;
  let inputPaused = false;
  let poll: ReturnType<typeof setTimeout> | undefined;
  const send = (m: ServerMessage) => ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify(m));
  const buffered = () => (ch as unknown as { writableLength?: number }).writableLength ?? 0;

  const waitForBrowser = () => {
    poll = setTimeout(() => {
      poll = undefined;
      if (stopped) return;
      if (ws.bufferedAmount > limits.outputLowWater) return waitForBrowser();
      outputPaused = false;
      ch.resume();
    }, DRAIN_POLL_MS);
  };
  ch.on("data", (chunk) => {
    if (stopped || ws.readyState !== WebSocket.OPEN) return;
    ws.send(chunk);
    if (tap) {
      try {
        tap(chunk);
      } catch { /* the terminal goes on */ }
    }
    if (!outputPaused && ws.bufferedAmount > limits.outputHighWater) {
      outputPaused = true;
      ch.pause();
      waitForBrowser();
    }
  });
  ch.on("drain", () => {
    if (inputPaused && !stopped) {
      inputPaused = false;
      send({ type: "resume" });
    }
  });

  const onBinary = (e: MessageEvent) => {
    if (stopped || !(e.data instanceof ArrayBuffer)) return;
    const accepted = ch.write(new Uint8Array(e.data));
    if (buffered() > limits.inputMaxBuffered) {
      ws.close(CLOSE.inputOverflow, "Input arrived faster than the terminal reads it.");
      return;
    }
    if ((!accepted || buffered() > limits.inputHighWater) && !inputPaused) {
      inputPaused = true;
      send({ type: "pause" });
    }
  };
  ws.addEventListener("message", onBinary);
  return () => {
    stopped = true;
    if (poll !== undefined) clearTimeout(poll);
    ws.removeEventListener("message", onBinary);
  };
}
