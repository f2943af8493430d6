import type { ServerMessage } from "../protocol.ts";

/** Close codes after which reconnecting cannot help (see `../protocol.ts`). */
const FINAL_CODES = new Set([1009, 4001, 4003]);
/** Reconnect delays in ms (the last repeats). */
const DELAYS = [500, 1000, 2000, 4000, 8000, 15000];

/**
 * The chat's WebSocket with automatic reconnect and backoff: each (re)connect gets the history
 * again, so the view is rebuilt from the server's truth, never from what this tab remembers.
 */
export class ChatSocket {
  #ws: WebSocket | null = null;
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(
    private readonly instanceId: number,
    private readonly onMessage: (m: ServerMessage) => void,
    private readonly onLink: (state: "connecting" | "open" | "retrying" | "ended", detail?: string) => void,
  ) {}

  connect(): void {
    if (this.#closed) return;
    this.onLink(this.#attempt ? "retrying" : "connecting");
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/api/v1/instances/${this.instanceId}/chat`);
    this.#ws = ws;
    ws.onopen = () => this.onLink("open");
    ws.onmessage = (e) => {
      const m = JSON.parse(String(e.data)) as ServerMessage;
      if (m.type === "state" && m.state === "ready") this.#attempt = 0;
      this.onMessage(m);
    };
    ws.onclose = (e) => {
      if (this.#ws !== ws) return;
      this.#ws = null;
      if (this.#closed || FINAL_CODES.has(e.code)) return this.onLink("ended", e.reason || `Closed (${e.code}).`);
      const delay = DELAYS[Math.min(this.#attempt++, DELAYS.length - 1)];
      this.onLink("retrying", `Reconnecting in ${Math.round(delay / 1000)} s…`);
      this.#timer = setTimeout(() => this.connect(), delay);
    };
  }

  /** False when the socket is not open (the caller keeps the text and says so). */
  send(message: { type: "send"; text: string } | { type: "abort" } | { type: "new_session" }): boolean {
    if (this.#ws?.readyState !== WebSocket.OPEN) return false;
    this.#ws.send(JSON.stringify(message));
    return true;
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#ws?.close(1000);
  }
}
