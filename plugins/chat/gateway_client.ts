import { AppError, type ChannelWebSocket, type CoreServices, openChannelWebSocket } from "../../core/mod.ts";

/** A gateway event frame (`{type:"event", event, payload}`). */
export interface GatewayEvent {
  event: string;
  payload: Record<string, unknown>;
}

/** Gateway protocol version this client speaks (OpenClaw 2026.9: v4). */
export const PROTOCOL = 4;
const CONNECT_TIMEOUT_MS = 15_000;
const REQUEST_TIMEOUT_MS = 60_000;
/** Largest gateway frame accepted (its own default `policy.maxPayload` is 25 MiB). */
const MAX_FRAME_BYTES = 26 << 20;

interface Pending {
  resolve: (payload: Record<string, unknown>) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * A server-side client of the instance's OpenClaw gateway, over a WebSocket on an SSH direct-tcpip
 * channel to the instance's 127.0.0.1:18789: protocol v4 handshake (`connect.challenge` →
 * `connect` as an operator with the instance's token), request/response correlation, events.
 * The token is read here, used in the connect frame only, and never logged or returned.
 */
export class GatewayClient {
  #ws: ChannelWebSocket;
  #next = 1;
  #pending = new Map<string, Pending>();
  #listeners = new Set<(e: GatewayEvent) => void>();
  #closeListeners = new Set<(reason: string) => void>();
  #closed = false;

  private constructor(ws: ChannelWebSocket) {
    this.#ws = ws;
  }

  /** Opens a tunnel to the gateway and completes the handshake, or fails with an AppError. */
  static async connect(
    s: Pick<CoreServices, "ssh" | "instances" | "secrets">,
    instanceId: number,
  ): Promise<GatewayClient> {
    const sealed = s.instances.gatewayToken(instanceId);
    if (!sealed) throw new AppError("CONFLICT", "This instance has no gateway token yet (is it still being created?).");
    const token = await s.secrets.decrypt(sealed);
    const channel = await s.ssh.openTunnel(instanceId, "gateway");
    const ws = await openChannelWebSocket(channel, {
      host: "127.0.0.1:18789",
      maxMessageBytes: MAX_FRAME_BYTES,
      timeoutMs: CONNECT_TIMEOUT_MS,
    });
    const client = new GatewayClient(ws);
    ws.onmessage = (data) => client.#receive(data);
    ws.onclose = (code, reason) => client.#ended(`gateway closed (${code}${reason ? `: ${reason}` : ""})`);
    try {
      await client.#handshake(token);
    } catch (e) {
      client.close();
      throw e;
    }
    return client;
  }

  /** Calls `cb` for every event the gateway sends; returns the function that stops it. */
  onEvent(cb: (e: GatewayEvent) => void): () => void {
    this.#listeners.add(cb);
    return () => this.#listeners.delete(cb);
  }

  /** Calls `cb` once when the connection ends. */
  onClose(cb: (reason: string) => void): void {
    this.#closeListeners.add(cb);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends a request and resolves with its payload, or rejects with the gateway's error message. */
  request(method: string, params: Record<string, unknown>, timeoutMs = REQUEST_TIMEOUT_MS) {
    if (this.#closed) return Promise.reject(new AppError("SSH_UNAVAILABLE", "The gateway connection is closed."));
    const id = String(this.#next++);
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new AppError("SSH_TIMEOUT", `The gateway did not answer ${method} within ${timeoutMs / 1000} s.`));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      this.#ws.send(JSON.stringify({ type: "req", id, method, params }));
    });
  }

  close(): void {
    this.#ws.close(1000, "closed by the control plane");
    this.#ended("closed by the control plane");
  }

  async #handshake(token: string): Promise<void> {
    const challenge = await new Promise<GatewayEvent>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new AppError("SSH_TIMEOUT", "The gateway sent no connect challenge.")),
        CONNECT_TIMEOUT_MS,
      );
      const stop = this.onEvent((e) => {
        if (e.event !== "connect.challenge") return;
        clearTimeout(timer);
        stop();
        resolve(e);
      });
      this.onClose((reason) => (clearTimeout(timer), reject(new AppError("SSH_UNAVAILABLE", reason))));
    });
    if (typeof challenge.payload.nonce !== "string") {
      throw new AppError("SSH_UNAVAILABLE", "The gateway's connect challenge is malformed.");
    }
    const hello = await this.request("connect", {
      minProtocol: PROTOCOL,
      maxProtocol: PROTOCOL,
      // A trusted local backend (OpenClaw's term): the tunnel lands on loopback and we hold the shared
      // token, so no device pairing is needed, and admin scope allows session resets and config changes.
      client: { id: "gateway-client", version: "claworc", platform: "linux", mode: "backend" },
      role: "operator",
      scopes: ["operator.read", "operator.write", "operator.admin"],
      caps: [],
      auth: { token },
      locale: "en-US",
      userAgent: "claworc-control-plane",
    }, CONNECT_TIMEOUT_MS);
    if (hello.type !== "hello-ok") throw new AppError("SSH_UNAVAILABLE", "The gateway did not accept the connection.");
  }

  #receive(data: string | Uint8Array): void {
    if (typeof data !== "string") return;
    let frame: Record<string, unknown>;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (frame.type === "res" && typeof frame.id === "string") {
      const p = this.#pending.get(frame.id);
      if (!p) return;
      this.#pending.delete(frame.id);
      clearTimeout(p.timer);
      if (frame.ok === true) p.resolve((frame.payload ?? {}) as Record<string, unknown>);
      else p.reject(gatewayError(frame.error));
    } else if (frame.type === "event" && typeof frame.event === "string") {
      const e = { event: frame.event, payload: (frame.payload ?? {}) as Record<string, unknown> };
      for (const cb of [...this.#listeners]) cb(e);
    }
  }

  #ended(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(new AppError("SSH_UNAVAILABLE", `The gateway connection ended (${reason}).`));
    }
    this.#pending.clear();
    for (const cb of [...this.#closeListeners]) cb(reason);
  }
}

/** A gateway `{code, message}` error as an AppError the caller can show (never with the token). */
export function gatewayError(error: unknown): AppError {
  const e = (error ?? {}) as { code?: unknown; message?: unknown };
  const message = typeof e.message === "string" && e.message ? e.message : "The gateway refused the request.";
  const code = typeof e.code === "string" ? e.code : "";
  if (code === "UNAUTHORIZED" || code === "FORBIDDEN" || /token|auth/i.test(code)) {
    return new AppError("SSH_UNAVAILABLE", `The gateway refused the control plane's credentials (${code}).`);
  }
  if (/\bstarting\b.*\bretry\b/i.test(message)) {
    return new AppError("SSH_UNAVAILABLE", "The agent's gateway is still starting; retrying shortly.");
  }
  return new AppError("CONFLICT", `The agent refused: ${message.slice(0, 500)}`);
}
