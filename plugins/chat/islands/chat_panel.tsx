import { useEffect, useRef, useState } from "preact/hooks";
import { useHydrated } from "../../../islands/_api.ts";
import type { ChatMessage, ServerMessage } from "../protocol.ts";
import { Markdown } from "./_markdown.tsx";
import { ChatSocket } from "./chat_socket.ts";

export interface ChatPanelProps {
  instanceId: number;
}

/** The reply being streamed: its run, text so far and the latest phase. */
interface Live {
  runId: string;
  text: string;
  phase: string;
}

const LINK_TEXT = {
  connecting: "Connecting…",
  open: "Connecting to the agent…",
  retrying: "Reconnecting…",
  ended: "Disconnected",
};

/**
 * Chat with the instance's agent: the conversation (history from the server on every connect, so a
 * reload keeps it), the streamed reply with its phase, Stop and New session, and the link state.
 * Replies render as safe Markdown (no HTML from the agent reaches the page).
 */
export default function ChatPanel({ instanceId }: ChatPanelProps) {
  const hydrated = useHydrated();
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [live, setLive] = useState<Live | null>(null);
  const [link, setLink] = useState("Not connected");
  const [ready, setReady] = useState(false);
  const [error, setError] = useState("");
  const [draft, setDraft] = useState("");
  const socket = useRef<ChatSocket | null>(null);
  const end = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!hydrated) return;
    const add = (m: ChatMessage) => setMessages((list) => [...list, m]);
    const onMessage = (m: ServerMessage) => {
      switch (m.type) {
        case "state":
          setReady(m.state === "ready");
          setLink(m.state === "ready" ? "Connected" : "Connecting to the agent…");
          if (m.state === "ready") setError("");
          return;
        case "history":
          setMessages(m.messages);
          setLive(null);
          return;
        case "user":
          return add({ role: "user", text: m.text, timestamp: m.timestamp });
        case "status":
          return setLive((l) => ({ runId: m.run_id, text: l?.runId === m.run_id ? l.text : "", phase: m.phase }));
        case "delta":
          return setLive((l) => ({ runId: m.run_id, text: m.text, phase: l?.phase ?? "" }));
        case "final":
        case "aborted":
          setLive(null);
          if (m.text) add({ role: "assistant", text: m.text, timestamp: Date.now() });
          if (m.type === "aborted") setError("Stopped.");
          return;
        case "error":
          setLive((l) => (m.run_id && l?.runId === m.run_id ? null : l));
          return setError(m.message);
        case "reset":
          setMessages([]);
          setLive(null);
          return;
      }
    };
    const s = new ChatSocket(instanceId, onMessage, (state, detail) => {
      if (state !== "open") setReady(false);
      setLink(detail ?? LINK_TEXT[state]);
    });
    socket.current = s;
    s.connect();
    return () => s.close();
  }, [hydrated, instanceId]);

  useEffect(() => end.current?.scrollIntoView({ block: "end" }), [messages, live]);

  const send = (e: Event) => {
    e.preventDefault();
    const text = draft.trim();
    if (!text) return;
    if (socket.current?.send({ type: "send", text })) {
      setDraft("");
      setError("");
    } else setError("Not connected; your message is kept.");
  };
  const command = (type: "abort" | "new_session") => {
    if (type === "new_session" && !confirm("Start a new session? The agent forgets this conversation.")) return;
    if (!socket.current?.send({ type })) setError("Not connected.");
  };

  return (
    <div class="chat" data-testid="chat">
      <div class="chat-bar">
        <span class="chat-link" data-testid="chat-link">{link}</span>
        {live?.phase && <span class="muted" data-testid="chat-phase">{live.phase.replaceAll("_", " ")}</span>}
        <span class="spacer" />
        <button type="button" data-testid="chat-stop" onClick={() => command("abort")} disabled={!ready || !live}>
          Stop
        </button>
        <button type="button" data-testid="chat-new" onClick={() => command("new_session")} disabled={!ready}>
          New session
        </button>
      </div>
      <div class="chat-log" role="log" aria-live="polite" data-testid="chat-log">
        {messages.length === 0 && !live && <p class="muted">No messages yet. Say hello to the agent.</p>}
        {messages.map((m, i) => (
          <div key={i} class={`chat-msg chat-${m.role}`} data-testid={`chat-${m.role}`}>
            {m.role === "assistant" ? <Markdown text={m.text} /> : <p class="chat-user-text">{m.text}</p>}
          </div>
        ))}
        {live && (
          <div class="chat-msg chat-assistant chat-streaming" data-testid="chat-streaming">
            {live.text ? <Markdown text={live.text} /> : <p class="muted">…</p>}
          </div>
        )}
        <div ref={end} />
      </div>
      {error && <p class="error" role="alert" data-testid="chat-error">{error}</p>}
      <form class="chat-form" onSubmit={send}>
        <textarea
          data-testid="chat-input"
          rows={3}
          value={draft}
          placeholder="Message the agent (/stop to stop, /new for a new session)"
          onInput={(e) => setDraft((e.target as HTMLTextAreaElement).value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey) send(e);
          }}
          disabled={!hydrated}
        />
        <button type="submit" data-testid="chat-send" disabled={!ready || !draft.trim()}>Send</button>
      </form>
    </div>
  );
}
