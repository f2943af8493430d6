import { z } from "zod";
import type { GatewayEvent } from "./gateway_client.ts";

/**
 * The chat WebSocket's protocol, `GET /api/v1/instances/{id}/chat`: JSON text frames only. Frames
 * from the gateway are translated into these, never forwarded raw (so nothing the browser should not
 * see, such as tokens or other sessions' traffic, can pass through).
 *
 * - server → browser:
 *   - `{"type":"state","state":"connecting"|"ready"}`: the gateway link (on "ready" the history was sent);
 *   - `{"type":"history","messages":[{role,text,timestamp}]}` once per connect (the session's recent turns);
 *   - `{"type":"user","text","timestamp"}` a message someone sent (echoed to every open chat of the instance);
 *   - `{"type":"status","run_id","phase"}`: preparing, thinking, tool use... (`phase` is OpenClaw's word);
 *   - `{"type":"delta","run_id","delta","text"}`: streamed assistant text (`text` = everything so far);
 *   - `{"type":"final","run_id","text","stop_reason"}`, `{"type":"aborted","run_id","text"}`;
 *   - `{"type":"error","run_id"?,"message"}`: a failed run or a refused request, readable by a person;
 *   - `{"type":"reset"}`: the session was reset (a new conversation starts).
 * - browser → server: `{"type":"send","text"}` (the commands `/stop`, `/new` and `/reset` are understood),
 *   `{"type":"abort"}`, `{"type":"new_session"}`.
 * - Close codes: 1000 normal, 1011 the gateway could not be reached or was lost (reconnect with backoff),
 *   1009 a frame too large (over `MAX_FRAME_CHARS`, or binary) or too many frames (over `MAX_FRAMES_PER_SECOND`
 *   in a second; both in `socket.ts`), 4001 sign-in ended, 4003 access removed.
 */
export type ChatMessage = { role: "user" | "assistant"; text: string; timestamp: number | null };

export type ServerMessage =
  | { type: "state"; state: "connecting" | "ready" }
  | { type: "history"; messages: ChatMessage[] }
  | { type: "user"; text: string; timestamp: number | null }
  | { type: "status"; run_id: string; phase: string }
  | { type: "delta"; run_id: string; delta: string; text: string }
  | { type: "final"; run_id: string; text: string; stop_reason: string }
  | { type: "aborted"; run_id: string; text: string }
  | { type: "error"; run_id?: string; message: string }
  | { type: "reset" };

/** Longest message a browser may send (characters). */
export const MAX_MESSAGE_CHARS = 100_000;

export const clientMessage = z.discriminatedUnion("type", [
  z.object({ type: z.literal("send"), text: z.string().trim().min(1).max(MAX_MESSAGE_CHARS) }).strict(),
  z.object({ type: z.literal("abort") }).strict(),
  z.object({ type: z.literal("new_session") }).strict(),
]);
export type ClientMessage = z.infer<typeof clientMessage>;

/** What a `send` means: a chat message, or one of the commands. */
export function commandOf(text: string): "abort" | "new_session" | null {
  const t = text.trim().toLowerCase();
  if (t === "/stop" || t === "/abort") return "abort";
  if (t === "/new" || t === "/reset") return "new_session";
  return null;
}

/** The text of an OpenClaw message: a string, or the text parts of a content array. */
export function textOf(message: unknown): string {
  const content = (message as { content?: unknown } | null)?.content ?? message;
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((part) =>
      (part && typeof part === "object" && (part as { type?: unknown }).type === "text")
        ? String((part as { text?: unknown }).text ?? "")
        : ""
    )
    .join("");
}

const str = (v: unknown) => (typeof v === "string" ? v : "");
const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** `chat.history`'s payload → the visible turns (user and assistant text only). */
export function historyOf(payload: Record<string, unknown>): ChatMessage[] {
  const rows = Array.isArray(payload.messages) ? payload.messages : [];
  const out: ChatMessage[] = [];
  for (const row of rows) {
    const role = (row as { role?: unknown })?.role;
    if (role !== "user" && role !== "assistant") continue;
    const text = textOf(row);
    if (text) out.push({ role, text, timestamp: num((row as { timestamp?: unknown }).timestamp) });
  }
  return out;
}

/** A readable reason for a failed run, from the `chat` error event's fields. */
function errorText(p: Record<string, unknown>): string {
  const detail = (p.errorDetail ?? {}) as Record<string, unknown>;
  const parts = [str(p.errorMessage) || str(p.errorKind) || "The agent's run failed."];
  const provider = [str(detail.provider), str(detail.model)].filter(Boolean).join("/");
  if (provider) parts.push(`(${provider}${num(detail.httpStatus) ? `, HTTP ${detail.httpStatus}` : ""})`);
  const preview = str(detail.providerErrorMessagePreview);
  if (preview && !parts[0].includes(preview)) parts.push(`— ${preview}`);
  return parts.join(" ");
}

/**
 * Translates one gateway event of session `sessionKey` into what the browser is told (null: nothing).
 * Only `chat` events of that session pass, and `agent` tool events become a "tool" status.
 */
export function translate(e: GatewayEvent, sessionKey: string): ServerMessage | null {
  const p = e.payload;
  if (p.sessionKey !== sessionKey) return null;
  const run_id = str(p.runId);
  if (e.event === "agent") {
    const data = (p.data ?? {}) as Record<string, unknown>;
    if (p.stream !== "tool") return null;
    const name = str(data.name) || str(data.tool) || "a tool";
    return { type: "status", run_id, phase: `tool: ${name}` };
  }
  if (e.event !== "chat") return null;
  switch (p.state) {
    case "status":
      return { type: "status", run_id, phase: str(p.phase) || "working" };
    case "delta":
      return { type: "delta", run_id, delta: str(p.deltaText), text: textOf(p.message) };
    case "final":
      return { type: "final", run_id, text: textOf(p.message), stop_reason: str(p.stopReason) };
    case "aborted":
      return { type: "aborted", run_id, text: textOf(p.message) };
    case "error":
      return { type: "error", run_id, message: errorText(p) };
    default:
      return null;
  }
}
