import { useEffect, useRef, useState } from "preact/hooks";
import { api, errorText, useHydrated } from "../../../islands/_api.ts";
import { RecordingsPanel } from "./_recordings_panel.tsx";
import { mirrorStyles } from "./adopted_styles.ts";
import { TerminalSocket } from "./terminal_socket.ts";

export interface TerminalViewProps {
  instanceId: number;
}

interface SessionRow {
  session_id: string;
  owner: string | null;
  owner_id: number | null;
  attached: boolean;
}

/**
 * The instance's Terminal tab: tabs for the caller's tmux sessions (new, switch, close), an xterm.js
 * terminal fitted to its box, copy/paste (buttons and Ctrl+Shift+C / Ctrl+Shift+V), a connection
 * that reattaches by itself after a network drop or a server restart, a "● Recording" mark while the
 * server records the session, and the recordings panel (play, download, delete).
 */
export default function TerminalView({ instanceId }: TerminalViewProps) {
  const ready = useHydrated();
  const [sessions, setSessions] = useState<SessionRow[]>([]);
  const [current, setCurrent] = useState<string | null>(null);
  const [generation, setGeneration] = useState(0);
  const [status, setStatus] = useState("Not connected");
  const [error, setError] = useState("");
  const [recording, setRecording] = useState(false);
  const [attaches, setAttaches] = useState(0);
  const box = useRef<HTMLDivElement>(null);
  const socketRef = useRef<TerminalSocket | null>(null);
  const termRef = useRef<{ getSelection(): string; paste(t: string): void; focus(): void } | null>(null);

  /** The default session (the caller's own, or a name no other user has) comes from the last refresh. */
  const fallback = useRef("main");
  /** The newest listing asked for: an older one that answers later (attach, close and end all list) is stale. */
  const listing = useRef(0);
  const refresh = async () => {
    const mine = ++listing.current;
    try {
      const r = await api<{ sessions: SessionRow[]; default_session?: string }>(
        "GET",
        `/api/v1/instances/${instanceId}/terminal/sessions`,
      );
      if (mine !== listing.current) return r.sessions;
      setSessions(r.sessions);
      if (r.default_session) fallback.current = r.default_session;
      return r.sessions;
    } catch (e) {
      if (mine === listing.current) setError(errorText(e));
      return [];
    }
  };

  useEffect(() => {
    if (!ready) return;
    // Not simply the first listed: an admin's list holds other users' sessions, which only they may attach to.
    refresh().then(() => setCurrent((c) => c ?? fallback.current));
  }, [ready]);

  useEffect(() => {
    if (!ready || !current || !box.current) return;
    let disposed = false;
    let cleanup = () => {};
    (async () => {
      const [{ Terminal }, { FitAddon }] = await Promise.all([import("@xterm/xterm"), import("@xterm/addon-fit")]);
      if (disposed || !box.current) return;
      const term = new Terminal({ cursorBlink: true, scrollback: 10_000, convertEol: false });
      const fit = new FitAddon();
      term.loadAddon(fit);
      const unmirror = mirrorStyles(box.current);
      term.open(box.current);
      fit.fit();
      termRef.current = term;
      const socket = new TerminalSocket(instanceId, current, {
        onData: (bytes) => term.write(bytes),
        onAttach: (info) => {
          term.reset();
          setRecording(info.recording === true);
          setAttaches((n) => n + 1);
          refresh();
        },
        onStatus: (s, detail, gone) => {
          // Not the socket this view closed on leaving the session (its late "ended" is no news).
          if (disposed) return;
          setStatus(detail ?? STATUS[s]);
          // Its shell exited or someone closed it: its tab goes (a closed one can still be listed for a
          // moment, as its browsers are told before it is killed).
          if (gone) void refresh().then(() => setSessions((l) => l.filter((x) => x.session_id !== current)));
        },
      });
      socketRef.current = socket;
      term.onData((d) => socket.input(d));
      term.onBinary((d) => socket.input(Uint8Array.from(d, (ch) => ch.charCodeAt(0))));
      term.onResize(({ cols, rows }) => socket.resize(cols, rows));
      term.attachCustomKeyEventHandler((e) => {
        if (e.type !== "keydown" || !e.ctrlKey || !e.shiftKey) return true;
        if (e.code === "KeyC") return void copy(), false;
        if (e.code === "KeyV") return void paste(), false;
        return true;
      });
      const observer = new ResizeObserver(() => fit.fit());
      observer.observe(box.current);
      socket.connect(term.cols, term.rows);
      term.focus();
      cleanup = () => {
        observer.disconnect();
        socket.close();
        term.dispose();
        unmirror();
      };
    })().catch((e) => setError(errorText(e)));
    return () => {
      disposed = true;
      cleanup();
      socketRef.current = null;
      termRef.current = null;
      setRecording(false);
    };
  }, [ready, current, generation]);

  // Both give the focus back to the terminal (a click on the button took it), so typing goes on there.
  const copy = async () => {
    const text = termRef.current?.getSelection() ?? "";
    if (text) await navigator.clipboard.writeText(text).catch((e) => setError(errorText(e)));
    termRef.current?.focus();
  };
  const paste = async () => {
    const text = await navigator.clipboard.readText().catch((e) => (setError(errorText(e)), ""));
    if (text) termRef.current?.paste(text);
    termRef.current?.focus();
  };
  const newSession = () => {
    const id = `s-${Math.random().toString(16).slice(2, 10)}`;
    setSessions((l) => [...l, { session_id: id, owner: null, owner_id: null, attached: true }]);
    setCurrent(id);
  };
  const closeSession = async (id: string) => {
    if (!confirm(`Close terminal session "${id}"? Programs running in it are ended.`)) return;
    try {
      await api("DELETE", `/api/v1/instances/${instanceId}/terminal/sessions/${encodeURIComponent(id)}`);
    } catch (e) {
      setError(errorText(e));
    }
    const list = await refresh();
    // The caller's next own session, if any (the default is one when it is listed).
    if (id === current) setCurrent(list.some((x) => x.session_id === fallback.current) ? fallback.current : null);
  };

  return (
    <div class="terminal" data-testid="terminal">
      <div class="terminal-bar">
        <div class="terminal-tabs" role="tablist">
          {sessions.map((s) => (
            <span key={s.session_id} class={s.session_id === current ? "terminal-tab active" : "terminal-tab"}>
              <button
                type="button"
                role="tab"
                aria-selected={s.session_id === current}
                data-testid={`terminal-tab-${s.session_id}`}
                onClick={() =>
                  setCurrent(s.session_id)}
                title={s.owner ? `Owner: ${s.owner}` : undefined}
              >
                {s.session_id}
              </button>
              <button
                type="button"
                class="terminal-tab-close"
                aria-label={`Close session ${s.session_id}`}
                onClick={() =>
                  closeSession(s.session_id)}
              >
                ×
              </button>
            </span>
          ))}
          <button type="button" data-testid="terminal-new" onClick={newSession} disabled={!ready}>+ New</button>
        </div>
        <div class="terminal-actions">
          <button type="button" onClick={copy} disabled={!ready}>Copy</button>
          <button type="button" onClick={paste} disabled={!ready}>Paste</button>
          <button type="button" onClick={() => setGeneration((g) => g + 1)} disabled={!ready}>Reconnect</button>
          {recording && (
            <span
              class="terminal-recording"
              data-testid="terminal-recording-indicator"
              title="This session's output is being recorded (typed input is not)."
            >
              ● Recording
            </span>
          )}
          <span class="terminal-status" data-testid="terminal-status">{status}</span>
        </div>
      </div>
      {error && <p class="error" role="alert">{error}</p>}
      {!current && <p class="muted">No terminal session. Open one with “+ New”.</p>}
      <div class="terminal-box" ref={box} />
      <RecordingsPanel instanceId={instanceId} refreshKey={attaches} />
    </div>
  );
}

const STATUS = { connecting: "Connecting…", live: "Connected", reconnecting: "Reconnecting…", ended: "Ended" };
