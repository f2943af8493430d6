/** What the island uses of noVNC's RFB client (`@novnc/novnc`, core/rfb.js; it ships no types). */
export interface Rfb extends EventTarget {
  viewOnly: boolean;
  scaleViewport: boolean;
  resizeSession: boolean;
  focusOnClick: boolean;
  disconnect(): void;
  clipboardPasteFrom(text: string): void;
  toBlob(callback: (blob: Blob | null) => void, type?: string): void;
  focus(options?: FocusOptions): void;
}

export type RfbConstructor = new (target: HTMLElement, channel: unknown, options?: { shared?: boolean }) => Rfb;

/** Who controls the instance's desktop, as the server says (see `../protocol.ts`). */
export interface ControlState {
  controller: string | null;
  you: boolean;
  viewers: number;
}

/** What the session tells the view. */
export interface DesktopEvents {
  onStatus(status: "connecting" | "live" | "reconnecting" | "ended", detail?: string): void;
  onControl(state: ControlState): void;
  /** Text the remote desktop put on its clipboard. */
  onClipboard(text: string): void;
}

/** Close codes after which reconnecting cannot help (see `../protocol.ts`). */
const FINAL_CODES = new Set([1002, 1009, 4001, 4003]);
/** Reconnect delays, in ms (the last repeats). */
const DELAYS = [500, 1000, 2000, 4000, 8000];

/**
 * The raw channel noVNC's Websock accepts (it checks for exactly these properties) over our WebSocket:
 * binary frames go to noVNC, text frames (control messages) to `onText`, so noVNC never sees them.
 */
class RfbChannel {
  onopen: ((e: Event) => void) | null = null;
  onmessage: ((e: MessageEvent) => void) | null = null;
  onclose: ((e: CloseEvent) => void) | null = null;
  onerror: ((e: Event) => void) | null = null;

  constructor(readonly ws: WebSocket, onText: (text: string) => void) {
    ws.binaryType = "arraybuffer";
    ws.addEventListener("open", (e) => this.onopen?.(e));
    ws.addEventListener("message", (e) => typeof e.data === "string" ? onText(e.data) : this.onmessage?.(e));
    ws.addEventListener("close", (e) => this.onclose?.(e));
    ws.addEventListener("error", (e) => this.onerror?.(e));
  }

  get binaryType(): BinaryType {
    return this.ws.binaryType;
  }

  set binaryType(type: BinaryType) {
    this.ws.binaryType = type;
  }

  get protocol(): string {
    return this.ws.protocol;
  }

  get readyState(): number {
    return this.ws.readyState;
  }

  send(data: ArrayBufferLike | ArrayBufferView): void {
    this.ws.send(data as ArrayBuffer);
  }

  close(): void {
    this.ws.close(1000);
  }
}

/**
 * One instance's desktop in the browser: noVNC's RFB over the desktop WebSocket, control requests on
 * the same socket, and a new connection (and RFB client) after a drop, with backoff.
 */
export class DesktopSession {
  #ws: WebSocket | null = null;
  #rfb: Rfb | null = null;
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #you = false;

  constructor(
    private readonly instanceId: number,
    private readonly target: HTMLElement,
    private readonly RFB: RfbConstructor,
    private readonly ev: DesktopEvents,
  ) {}

  get rfb(): Rfb | null {
    return this.#rfb;
  }

  connect(): void {
    if (this.#closed) return;
    this.ev.onStatus(this.#attempt ? "reconnecting" : "connecting");
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(
      `${scheme}://${location.host}/api/v1/instances/${this.instanceId}/desktop/websockify`,
      ["binary"],
    );
    this.#ws = ws;
    const channel = new RfbChannel(ws, (text) => this.#control(text));
    const rfb = new this.RFB(this.target, channel, { shared: true });
    rfb.viewOnly = !this.#you;
    rfb.scaleViewport = true;
    rfb.resizeSession = false;
    rfb.focusOnClick = true;
    rfb.addEventListener("connect", () => {
      this.#attempt = 0;
      this.ev.onStatus("live");
    });
    rfb.addEventListener("clipboard", (e) => this.ev.onClipboard((e as CustomEvent<{ text: string }>).detail.text));
    rfb.addEventListener("securityfailure", (e) => {
      this.ev.onStatus("ended", `Refused by the desktop: ${(e as CustomEvent<{ reason?: string }>).detail.reason}`);
    });
    this.#rfb = rfb;
    ws.addEventListener("close", (e) => {
      if (this.#ws !== ws) return;
      this.#ws = null;
      this.#you = false;
      this.ev.onControl({ controller: null, you: false, viewers: 0 });
      if (this.#closed || FINAL_CODES.has(e.code)) {
        this.ev.onStatus("ended", e.reason || `Closed (${e.code}).`);
        return;
      }
      const delay = DELAYS[Math.min(this.#attempt++, DELAYS.length - 1)];
      this.ev.onStatus("reconnecting", `Reconnecting in ${Math.max(1, Math.round(delay / 1000))} s…`);
      this.#timer = setTimeout(() => this.connect(), delay);
    });
  }

  takeControl(): void {
    this.#send({ type: "take_control" });
  }

  releaseControl(): void {
    this.#send({ type: "release_control" });
  }

  /** Sends text to the remote clipboard (only a controller's reaches it). */
  paste(text: string): void {
    this.#rfb?.clipboardPasteFrom(text);
  }

  /** The framebuffer as a PNG (null before the first frame). */
  screenshot(): Promise<Blob | null> {
    const rfb = this.#rfb;
    return new Promise((resolve) => rfb ? rfb.toBlob(resolve, "image/png") : resolve(null));
  }

  /** Stops for good (control, if held, is released by the server when the socket closes). */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    const rfb = this.#rfb;
    this.#rfb = null;
    try {
      rfb?.disconnect();
    } catch { /* already disconnected */ }
    this.#ws?.close(1000);
  }

  #send(m: { type: string }): void {
    if (this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify(m));
  }

  #control(text: string): void {
    let m: { type?: string } & Partial<ControlState>;
    try {
      m = JSON.parse(text);
    } catch {
      return;
    }
    if (m.type !== "control") return;
    this.#you = m.you === true;
    if (this.#rfb) this.#rfb.viewOnly = !this.#you;
    this.ev.onControl({ controller: m.controller ?? null, you: this.#you, viewers: m.viewers ?? 0 });
  }
}
