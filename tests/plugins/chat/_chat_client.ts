/** A test client of the chat WebSocket: collects every frame (parsed) and the close. */
export class ChatClient {
  readonly ws: WebSocket;
  readonly frames: Record<string, unknown>[] = [];
  /** Every frame as received, to scan for what must never reach a browser. */
  readonly raw: string[] = [];
  closed: { code: number; reason: string } | null = null;
  opened = false;

  constructor(url: string, headers: Record<string, string>) {
    this.ws = new WebSocket(url, { headers } as unknown as string[]);
    this.ws.onopen = () => this.opened = true;
    this.ws.onmessage = (e) => {
      this.raw.push(String(e.data));
      this.frames.push(JSON.parse(String(e.data)));
    };
    this.ws.onclose = (e) => this.closed = { code: e.code, reason: e.reason };
    this.ws.onerror = () => {};
  }

  of(type: string): Record<string, unknown>[] {
    return this.frames.filter((f) => f.type === type);
  }

  ready(): boolean {
    return this.frames.some((f) => f.type === "state" && f.state === "ready");
  }

  send(message: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(message));
  }

  close(): void {
    this.ws.close();
  }
}
