import type { Context } from "hono";
import {
  accessLost,
  actorOf,
  AppError,
  type CoreServices,
  frameBudget,
  readSessionCookie,
  requireWebSocketHandshake,
} from "../../core/mod.ts";
import { GatewayClient } from "./gateway_client.ts";
import { clientMessage, commandOf, historyOf, type ServerMessage, translate } from "./protocol.ts";

/** The services a chat socket uses. */
export type ChatServices = Pick<CoreServices, "ssh" | "instances" | "secrets" | "sessions" | "audit">;

export interface ChatOptions {
  /** The OpenClaw session the dashboard chats in. */
  sessionKey: string;
  /** Turns of history sent on connect. */
  historyLimit: number;
  /** How often the sign-in and access are re-checked while a chat is open. */
  recheckMs: number;
}

export const chatDefaults: ChatOptions = { sessionKey: "agent:main:main", historyLimit: 200, recheckMs: 30_000 };

/** Largest frame accepted from a browser (characters of JSON). */
export const MAX_FRAME_CHARS = 512 * 1024;

/** Most frames a browser may send in a second (each send is broadcast, audited and asked of the gateway). */
export const MAX_FRAMES_PER_SECOND = 20;

/** One open chat socket: how to tell it something, and how to end it. */
interface Member {
  send(m: ServerMessage): void;
  end(code: number, reason: string): void;
}

/**
 * Open chat sockets per instance, so a message one person sends shows in everyone's chat of it; the
 * plugin ends them all when it closes (shutdown), and the islands reconnect when the server is back.
 */
export class ChatRooms {
  #rooms = new Map<number, Set<Member>>();

  join(instanceId: number, member: Member): () => void {
    const room = this.#rooms.get(instanceId) ?? new Set();
    this.#rooms.set(instanceId, room);
    room.add(member);
    return () => {
      room.delete(member);
      if (!room.size) this.#rooms.delete(instanceId);
    };
  }

  broadcast(instanceId: number, m: ServerMessage): void {
    for (const member of this.#rooms.get(instanceId) ?? []) member.send(m);
  }

  endAll(): void {
    for (const room of [...this.#rooms.values()]) {
      for (const member of [...room]) member.end(1001, "The control plane is shutting down.");
    }
  }

  get size(): number {
    let n = 0;
    for (const room of this.#rooms.values()) n += room.size;
    return n;
  }
}

/**
 * Upgrades to the chat WebSocket (`protocol.ts`) and links it to a gateway client of its own on the
 * instance. The gateway is reached after the upgrade, so the browser learns why when it cannot be
 * (an `error` frame, then close 1011, and the island retries).
 */
export function openChat(
  c: Context,
  s: ChatServices,
  req: { instanceId: number },
  opts: ChatOptions,
  rooms: ChatRooms,
): Response {
  requireWebSocketHandshake(c.req.raw.headers);
  const { instanceId } = req;
  const token = readSessionCookie(c) ?? "";
  const actor = actorOf(c);
  const target = `instance:${instanceId}`;
  const { socket, response } = Deno.upgradeWebSocket(c.req.raw);
  const send = (m: ServerMessage) => socket.readyState === WebSocket.OPEN && socket.send(JSON.stringify(m));
  let gateway: GatewayClient | null = null;
  let ended = false;
  const finish = (code: number, reason: string) => {
    if (ended) return;
    ended = true;
    clearInterval(recheck);
    leave();
    gateway?.close();
    if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) {
      try {
        socket.close(code, reason);
      } catch { /* not yet open */ }
    }
  };
  const leave = rooms.join(instanceId, { send, end: finish });
  const recheck = setInterval(() => {
    const lost = accessLost(s, token, instanceId);
    if (lost) finish(lost.code, lost.reason);
  }, opts.recheckMs);

  const run = async (what: string, action: () => Promise<unknown>) => {
    try {
      if (!gateway) throw new AppError("SSH_UNAVAILABLE", "The agent is not connected yet.");
      await action();
    } catch (e) {
      send({ type: "error", message: `${what}: ${(e as Error).message}` });
    }
  };
  const abort = () =>
    run("Stop", async () => {
      await gateway!.request("chat.abort", { sessionKey: opts.sessionKey });
      s.audit.record({ actor, action: "chat.abort", target, instanceId });
    });
  const newSession = () =>
    run("New session", async () => {
      await gateway!.request("sessions.reset", { key: opts.sessionKey, reason: "new" });
      s.audit.record({ actor, action: "chat.reset", target, instanceId });
      rooms.broadcast(instanceId, { type: "reset" });
    });

  socket.onopen = async () => {
    send({ type: "state", state: "connecting" });
    try {
      const g = await GatewayClient.connect(s, instanceId);
      if (ended) return g.close();
      gateway = g;
      g.onEvent((e) => {
        const m = translate(e, opts.sessionKey);
        if (m) send(m);
      });
      g.onClose(() => {
        send({ type: "error", message: "The connection to the agent was lost; reconnecting." });
        finish(1011, "gateway lost");
      });
      const history = await g.request("chat.history", { sessionKey: opts.sessionKey, limit: opts.historyLimit });
      send({ type: "history", messages: historyOf(history) });
      send({ type: "state", state: "ready" });
      s.audit.record({ actor, action: "chat.open", target, instanceId });
    } catch (e) {
      const why = (e as Error).message;
      send({ type: "error", message: /still starting/.test(why) ? why : `The agent cannot be reached: ${why}` });
      finish(1011, "gateway unreachable");
    }
  };
  const budget = frameBudget(MAX_FRAMES_PER_SECOND);
  socket.onmessage = (e) => {
    if (typeof e.data !== "string" || e.data.length > MAX_FRAME_CHARS) return finish(1009, "Frame too large.");
    if (!budget()) return finish(1009, "Too many messages.");
    let parsed;
    try {
      parsed = clientMessage.safeParse(JSON.parse(e.data));
    } catch {
      parsed = null;
    }
    if (!parsed?.success) return send({ type: "error", message: "That message could not be understood." });
    const m = parsed.data;
    if (m.type === "abort") return void abort();
    if (m.type === "new_session") return void newSession();
    const command = commandOf(m.text);
    if (command === "abort") return void abort();
    if (command === "new_session") return void newSession();
    void run("Send", async () => {
      const idempotencyKey = crypto.randomUUID();
      rooms.broadcast(instanceId, { type: "user", text: m.text, timestamp: Date.now() });
      await gateway!.request("chat.send", { sessionKey: opts.sessionKey, message: m.text, idempotencyKey });
      s.audit.record({ actor, action: "chat.send", target, instanceId, details: { chars: m.text.length } });
    });
  };
  socket.onclose = () => finish(1000, "closed");
  socket.onerror = () => finish(1011, "socket error");
  return response;
}
