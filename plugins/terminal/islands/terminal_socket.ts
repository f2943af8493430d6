/** What the browser-side connection tells the view. */
export interface TerminalSocketEvents {
  /** Terminal bytes (replay first after each (re)attach, then live output). */
  onData(bytes: Uint8Array): void;
  /** A (re)attach began: the view clears the screen before the replay arrives. */
  onAttach(info: { session_id: string; created: boolean; replay_bytes: number; recording?: boolean }): void;
  /** `gone` (with "ended"): the session itself ended (its shell exited, or it was closed through the API). */
  onStatus(status: "connecting" | "live" | "reconnecting" | "ended", detail?: string, gone?: boolean): void;
}

/** Close codes after which reconnecting cannot help (see `../protocol.ts`). */
const FINAL_CODES = new Set([1009, 4001, 4003, 4004]);
/**
 * Longest wait for tmux's first output after an attach before input is sent anyway (a loaded machine
 * can take seconds, and keys sent before tmux has set up its terminal are lost).
 */
const ATTACH_GRACE_MS = 15_000;
/** Reconnect delays, in ms (the last repeats). */
const DELAYS = [500, 1000, 2000, 4000, 8000];

/**
 * One terminal session's WebSocket with automatic reconnect (which reattaches to the same tmux
 * session and gets its replay), input flow control (input waits in a queue while the server says
 * `pause`) and resize messages.
 */
export class TerminalSocket {
  #ws: WebSocket | null = null;
  #queue: Uint8Array[] = [];
  #paused = false;
  /**
   * Input waits until tmux has drawn after an attach: keys typed while its client is still setting up
   * the terminal can be lost. Counted in bytes still expected from the replay before live output.
   */
  #replayLeft = 0;
  #attached = false;
  #graceTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #size = { cols: 80, rows: 24 };
  sessionId: string | null;

  constructor(
    private readonly instanceId: number,
    sessionId: string | null,
    private readonly ev: TerminalSocketEvents,
  ) {
    this.sessionId = sessionId;
  }

  connect(cols: number, rows: number): void {
    this.#size = { cols, rows };
    if (this.#closed) return;
    this.ev.onStatus(this.#attempt ? "reconnecting" : "connecting");
    const q = new URLSearchParams({ cols: String(cols), rows: String(rows) });
    if (this.sessionId) q.set("session_id", this.sessionId);
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/api/v1/instances/${this.instanceId}/terminal?${q}`);
    ws.binaryType = "arraybuffer";
    this.#ws = ws;
    this.#paused = false;
    this.#attached = false;
    let ended = false;
    ws.onmessage = (e) => {
      if (e.data instanceof ArrayBuffer) {
        const bytes = new Uint8Array(e.data);
        this.ev.onData(bytes);
        this.#replayLeft -= bytes.length;
        if (!this.#attached && this.#replayLeft < 0) this.#ready();
        return;
      }
      const m = JSON.parse(String(e.data));
      if (m.type === "session") {
        this.sessionId = m.session_id;
        this.#attempt = 0;
        this.ev.onAttach(m);
        this.ev.onStatus("live");
        this.#replayLeft = m.replay_bytes ?? 0;
        clearTimeout(this.#graceTimer);
        this.#graceTimer = setTimeout(() => this.#ready(), ATTACH_GRACE_MS);
      } else if (m.type === "pause") this.#paused = true;
      else if (m.type === "resume") {
        this.#paused = false;
        this.#flush();
      } else if (m.type === "exit" && m.session_ended) ended = true;
    };
    ws.onclose = (e) => {
      if (this.#ws !== ws) return;
      this.#ws = null;
      if (this.#closed || ended || FINAL_CODES.has(e.code)) {
        const why = e.code === 4004 || !ended ? e.reason || `Closed (${e.code}).` : "The shell exited.";
        this.ev.onStatus("ended", why, e.code === 4004 || ended);
        return;
      }
      const delay = DELAYS[Math.min(this.#attempt++, DELAYS.length - 1)];
      this.ev.onStatus("reconnecting", `Reconnecting in ${Math.round(delay / 1000)} s…`);
      this.#timer = setTimeout(() => this.connect(this.#size.cols, this.#size.rows), delay);
    };
  }

  /** Sends input (queued while paused or reconnecting; never dropped). */
  input(data: string | Uint8Array): void {
    this.#queue.push(typeof data === "string" ? new TextEncoder().encode(data) : data);
    this.#flush();
  }

  resize(cols: number, rows: number): void {
    this.#size = { cols, rows };
    if (this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify({ type: "resize", cols, rows }));
  }

  /** Stops for good (closing the tab only detaches; the session stays on the instance). */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#graceTimer);
    this.#ws?.close(1000);
  }

  /** tmux answered after the attach (or the grace ran out): queued input may go. */
  #ready(): void {
    clearTimeout(this.#graceTimer);
    this.#attached = true;
    this.#flush();
  }

  #flush(): void {
    const ws = this.#ws;
    while (ws?.readyState === WebSocket.OPEN && this.#attached && !this.#paused && this.#queue.length) {
      ws.send(this.#queue.shift()!);
    }
  }
}
