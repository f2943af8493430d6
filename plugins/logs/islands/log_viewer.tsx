import { useEffect, useRef, useState } from "preact/hooks";
import { api, errorText, useHydrated } from "../../../islands/_api.ts";
import type { LogTypeInfo } from "../types.ts";
import { appendBounded, countMatching, highlightParts, logFileName, logFileText, type LogLine } from "./log_buffer.ts";

export interface LogViewerProps {
  instanceId: number;
  types: LogTypeInfo[];
  /** Lines kept in the viewer (and in a download); older ones are dropped. */
  maxLines: number;
  /** Lines asked for when a log is opened. */
  tail: number;
  maxTail: number;
}

type Status = "idle" | "connecting" | "live" | "ended" | "lost";

interface Notice {
  level: string;
  message: string;
}

/** Notices shown at once (the newest). */
const MAX_NOTICES = 5;

const STATUS_TEXT: Record<Status, string> = {
  idle: "Not connected",
  connecting: "Connecting…",
  live: "Live",
  ended: "Ended",
  lost: "Connection lost",
};

/**
 * An instance's logs: a type selector, live follow with pause, search with highlighting, and a
 * download of what is shown. Reads `GET /api/v1/instances/{id}/logs` with EventSource; the buffer
 * keeps the newest `maxLines` lines, and lines that arrive while paused wait (bounded the same way).
 */
export default function LogViewer({ instanceId, types, maxLines, tail: initialTail, maxTail }: LogViewerProps) {
  const ready = useHydrated();
  const [type, setType] = useState(types[0]?.id ?? "");
  const [tail, setTail] = useState(initialTail);
  const [follow, setFollow] = useState(true);
  const [paused, setPaused] = useState(false);
  const [generation, setGeneration] = useState(0);
  const [lines, setLines] = useState<LogLine[]>([]);
  const [waiting, setWaiting] = useState(0);
  const [dropped, setDropped] = useState(0);
  const [status, setStatus] = useState<Status>("idle");
  const [source, setSource] = useState("");
  const [endReason, setEndReason] = useState("");
  const [notices, setNotices] = useState<Notice[]>([]);
  const [search, setSearch] = useState("");
  const pausedRef = useRef(false);
  const pending = useRef<LogLine[]>([]);
  const counter = useRef(0);
  const view = useRef<HTMLPreElement>(null);
  const stick = useRef(true);

  const info = types.find((t) => t.id === type);
  const following = follow && (info?.followable ?? false);

  useEffect(() => {
    if (!ready || !type) return;
    setLines([]);
    // A log opened (another type, tail or follow, or Reload) shows its lines: a pause ends with the old stream.
    pending.current = [];
    pausedRef.current = false;
    setPaused(false);
    setWaiting(0);
    setDropped(0);
    setNotices([]);
    setEndReason("");
    setSource("");
    setStatus("connecting");
    const params = new URLSearchParams({ type, tail: String(tail), follow: String(following) });
    const es = new EventSource(`/api/v1/instances/${instanceId}/logs?${params}`);
    const json = (e: Event) => JSON.parse((e as MessageEvent).data);
    es.addEventListener("ready", (e) => {
      setSource(json(e).source);
      setStatus("live");
    });
    es.addEventListener("line", (e) => {
      const texts: string[] = json(e);
      const next = counter.current;
      counter.current += texts.length;
      if (pausedRef.current) {
        pending.current = appendBounded(pending.current, texts, next, maxLines);
        setWaiting(pending.current.length);
      } else setLines((prev) => appendBounded(prev, texts, next, maxLines));
    });
    es.addEventListener("gap", (e) => setDropped((d) => d + Number(json(e).dropped)));
    es.addEventListener("notice", (e) => {
      const { level, message } = json(e);
      setNotices((prev) => [...prev, { level, message }].slice(-MAX_NOTICES));
    });
    es.addEventListener("end", (e) => {
      // A finished stream must not be re-opened by EventSource's automatic reconnect.
      es.close();
      setEndReason(json(e).reason);
      setStatus("ended");
    });
    let closed = false;
    es.onerror = () => {
      // Reconnecting would repeat the last lines: stop, and let the user reopen.
      es.close();
      setStatus((s) => s === "ended" ? s : "lost");
      // EventSource hides why (a refused request's status and message): ask the API what it answers now.
      api("GET", `/api/v1/instances/${instanceId}/logs/types`).then(
        () => {},
        (err) => !closed && setEndReason((r) => r || errorText(err)),
      );
    };
    return () => {
      closed = true;
      es.close();
    };
  }, [ready, instanceId, type, tail, following, generation]);

  useEffect(() => {
    const el = view.current;
    if (el && stick.current && !pausedRef.current) el.scrollTop = el.scrollHeight;
  }, [lines]);

  function togglePause() {
    const next = !pausedRef.current;
    pausedRef.current = next;
    setPaused(next);
    if (!next && pending.current.length) {
      const held = pending.current;
      pending.current = [];
      setWaiting(0);
      setLines((prev) => appendBounded(prev, held.map((l) => l.text), held[0].n, maxLines));
    }
  }

  function download() {
    const blob = new Blob([logFileText(lines)], { type: "text/plain;charset=utf-8" });
    const url = URL.createObjectURL(blob);
    const a = document.createElement("a");
    a.href = url;
    a.download = logFileName(instanceId, type, new Date());
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  const matches = countMatching(lines, search);
  return (
    <div class="stack log-viewer" data-testid="log-viewer">
      <form class="card filters" onSubmit={(e) => e.preventDefault()} aria-label="Log options">
        <div class="row wrap">
          <label>
            Log
            <select
              value={type}
              disabled={!ready}
              onChange={(e) => setType(e.currentTarget.value)}
              data-testid="log-type"
            >
              {types.map((t) => <option key={t.id} value={t.id}>{t.label}</option>)}
            </select>
          </label>
          <label>
            Last lines
            <input
              type="number"
              min={1}
              max={maxTail}
              step={1}
              value={tail}
              disabled={!ready}
              onChange={(e) => {
                const n = Math.trunc(Number(e.currentTarget.value));
                if (n >= 1 && n <= maxTail) setTail(n);
              }}
              data-testid="log-tail"
            />
          </label>
          <label class="check">
            <input
              type="checkbox"
              checked={following}
              disabled={!ready || !info?.followable}
              onChange={(e) => setFollow(e.currentTarget.checked)}
              data-testid="log-follow"
            />
            Follow
          </label>
          <button type="button" disabled={!ready} onClick={togglePause} aria-pressed={paused} data-testid="log-pause">
            {paused ? `Resume${waiting ? ` (${waiting} new)` : ""}` : "Pause"}
          </button>
          <button type="button" disabled={!ready} onClick={() => setGeneration((g) => g + 1)} data-testid="log-reload">
            Reload
          </button>
          <label>
            Search
            <input
              type="search"
              value={search}
              spellcheck={false}
              placeholder="highlight text"
              onInput={(e) => setSearch(e.currentTarget.value)}
              data-testid="log-search"
            />
          </label>
          <button type="button" disabled={!ready || !lines.length} onClick={download} data-testid="log-download">
            Download .log
          </button>
        </div>
      </form>

      <p class="muted" aria-live="polite" data-testid="log-status">
        {STATUS_TEXT[status]}
        {source === "container" ? " · container log (runtime backend)" : source === "ssh" ? " · over SSH" : ""}
        {` · ${lines.length} line${lines.length === 1 ? "" : "s"}`}
        {search ? ` · ${matches} matching` : ""}
        {dropped ? ` · ${dropped} lines skipped (the browser read too slowly)` : ""}
        {endReason && endReason !== "complete" ? ` · ${endReason}` : ""}
      </p>
      {notices.map((n, i) => (
        <p key={i} role={n.level === "info" ? undefined : "alert"} class={`notice ${n.level}`} data-testid="log-notice">
          {n.message}
        </p>
      ))}
      <pre
        class="log-view"
        ref={view}
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}
        data-testid="log-lines"
      >
        {lines.length === 0
          ? <span class="muted">{status === "connecting" || status === "idle" ? "Loading…" : "No lines."}</span>
          : lines.map((l) => (
            <span key={l.n} class="log-line">
              {highlightParts(l.text, search).map((p, i) => p.match ? <mark key={i}>{p.text}</mark> : p.text)}
              {"\n"}
            </span>
          ))}
      </pre>
    </div>
  );
}
