/** A test WebSocket client of the terminal protocol: collects output bytes, control frames and the close. */
export class TermClient {
  readonly ws: WebSocket;
  readonly control: Record<string, unknown>[] = [];
  /** Output bytes received in all. */
  bytes = 0;
  /** The decoded output (only the last `keep` characters). */
  #text = "";
  #decoder = new TextDecoder();
  closed: { code: number; reason: string } | null = null;
  opened = false;

  constructor(url: string, headers: Record<string, string>, private readonly keep = 1 << 20) {
    this.ws = new WebSocket(url, { headers } as unknown as string[]);
    this.ws.binaryType = "arraybuffer";
    this.ws.onopen = () => this.opened = true;
    this.ws.onmessage = (e) => {
      if (typeof e.data === "string") return void this.control.push(JSON.parse(e.data));
      const chunk = new Uint8Array(e.data as ArrayBuffer);
      this.bytes += chunk.length;
      this.#text = (this.#text + this.#decoder.decode(chunk, { stream: true })).slice(-this.keep);
    };
    this.ws.onclose = (e) => this.closed = { code: e.code, reason: e.reason };
    this.ws.onerror = () => {};
  }

  text(): string {
    return this.#text;
  }

  /** Text received after the `from` mark (a length of `text()` taken earlier). */
  since(from: number): string {
    return this.#text.slice(from);
  }

  type(s: string | Uint8Array): void {
    this.ws.send(typeof s === "string" ? new TextEncoder().encode(s) : s);
  }

  resize(cols: number, rows: number): void {
    this.ws.send(JSON.stringify({ type: "resize", cols, rows }));
  }

  frames(type: string): Record<string, unknown>[] {
    return this.control.filter((m) => m.type === type);
  }

  close(): void {
    this.ws.close();
  }
}
