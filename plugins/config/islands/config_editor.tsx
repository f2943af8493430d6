import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { ApiError, useHydrated } from "../../../islands/_api.ts";
import { type JsonSyntaxError, jsonSyntaxError } from "../json_check.ts";
import { configCall, type Finding, findingsOf, type Loaded, type Saved, type Verdict } from "./_config_api.ts";
import { adoptConfigStyles } from "./_styles.ts";
import { useUnsavedGuard } from "../../../islands/_unsaved_guard.ts";

export interface ConfigEditorProps {
  instanceId: number;
  /** The paths Claworc's models feature owns, with what each is (static). */
  managed: { path: string; what: string }[];
}

/** What the last action came to, shown under the editor. */
type Outcome =
  | { kind: "valid"; warnings: Finding[] }
  | { kind: "issues"; from: "validate" | "save"; detail: string; issues: Finding[] }
  | { kind: "saved"; seconds: number; warnings: Finding[] }
  | { kind: "changed"; detail: string }
  | { kind: "refused"; detail: string; log: string }
  | { kind: "error"; detail: string };

type Busy = "" | "loading" | "validating" | "saving";

/** The editor's line height in pixels (the stylesheet's gutter and text use it). */
const LINE_PX = 20;

/**
 * The instance's openclaw.json in a plain-text editor with line numbers, a line/column indicator and
 * a JSON check as you type; Validate asks OpenClaw's own validator on the instance, Save applies the
 * file (OpenClaw validates it again, the gateway restarts, and a gateway that does not come back gets
 * the previous file). Saves carry the hash the file was loaded with, so a file changed meanwhile on
 * the instance is not overwritten.
 */
export default function ConfigEditor({ instanceId, managed }: ConfigEditorProps) {
  const ready = useHydrated();
  const [busy, setBusy] = useState<Busy>("loading");
  const [loadError, setLoadError] = useState("");
  const [text, setText] = useState("");
  const [base, setBase] = useState<{ content: string; hash: string } | null>(null);
  const [managedNow, setManagedNow] = useState<string[]>([]);
  const [maxBytes, setMaxBytes] = useState(256 * 1024);
  const [syntax, setSyntax] = useState<JsonSyntaxError | null>(null);
  const [cursor, setCursor] = useState({ line: 1, column: 1 });
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [confirmDiscard, setConfirmDiscard] = useState(false);
  const [elapsed, setElapsed] = useState(0);
  const area = useRef<HTMLTextAreaElement>(null);
  const gutter = useRef<HTMLPreElement>(null);

  const dirty = base !== null && text !== base.content;
  const lineCount = useMemo(() => countLines(text), [text]);
  const bytes = useMemo(() => new TextEncoder().encode(text).length, [text]);

  useEffect(() => adoptConfigStyles(), []);

  async function load() {
    setBusy("loading");
    setLoadError("");
    setConfirmDiscard(false);
    try {
      const got = await configCall<Loaded>(instanceId, "GET");
      setBase({ content: got.content, hash: got.hash });
      setText(got.content);
      setSyntax(jsonSyntaxError(got.content));
      setManagedNow(got.managed_now ?? []);
      setMaxBytes(got.max_bytes);
      setOutcome(null);
    } catch (e) {
      setLoadError((e as Error).message);
    } finally {
      setBusy("");
    }
  }

  useEffect(() => {
    if (ready) load();
  }, [ready, instanceId]);

  // The JSON check, shortly after typing stops.
  useEffect(() => {
    const timer = setTimeout(() => setSyntax(jsonSyntaxError(text)), 150);
    return () => clearTimeout(timer);
  }, [text]);

  // Where the caret is (the browser tells selection changes on the document).
  useEffect(() => {
    if (!ready) return;
    const update = () => {
      const el = area.current;
      if (el && document.activeElement === el) setCursor(caretPosition(el.value, el.selectionStart));
    };
    document.addEventListener("selectionchange", update);
    return () => document.removeEventListener("selectionchange", update);
  }, [ready]);

  // Unsaved edits are guarded against leaving the page.
  useUnsavedGuard(dirty);

  // Seconds since a save started (it restarts the agent's gateway, which takes a while).
  useEffect(() => {
    if (busy !== "saving") return;
    const started = Date.now();
    setElapsed(0);
    const timer = setInterval(() => setElapsed(Math.round((Date.now() - started) / 1000)), 1000);
    return () => clearInterval(timer);
  }, [busy]);

  async function validate() {
    setBusy("validating");
    setOutcome(null);
    try {
      const v = await configCall<Verdict>(instanceId, "POST", "/validate", { content: text });
      setOutcome(
        v.valid
          ? { kind: "valid", warnings: v.warnings }
          : { kind: "issues", from: "validate", detail: "OpenClaw refuses this configuration.", issues: v.issues },
      );
    } catch (e) {
      setOutcome(failure(e, "validate"));
    } finally {
      setBusy("");
    }
  }

  async function save() {
    if (!base || !dirty || syntax || busy) return;
    setBusy("saving");
    setOutcome(null);
    const content = text;
    try {
      const saved = await configCall<Saved>(instanceId, "PUT", "", { content, base_hash: base.hash });
      setBase({ content, hash: saved.hash });
      setOutcome({ kind: "saved", seconds: saved.duration_ms / 1000, warnings: saved.warnings });
    } catch (e) {
      setOutcome(failure(e, "save"));
    } finally {
      setBusy("");
    }
  }

  function reload() {
    if (dirty && !confirmDiscard) {
      setConfirmDiscard(true);
      return;
    }
    load();
  }

  function goTo(offset: number) {
    const el = area.current;
    if (!el) return;
    el.focus();
    el.setSelectionRange(offset, Math.min(offset + 1, el.value.length));
    const { line } = caretPosition(el.value, offset);
    el.scrollTop = Math.max(0, (line - 1) * LINE_PX - el.clientHeight / 2);
    setCursor(caretPosition(el.value, offset));
  }

  const errorLine = syntax?.line ?? 0;
  const numbers = useMemo(
    () =>
      Array.from(
        { length: lineCount },
        (_, i) => <span key={i} class={i + 1 === errorLine ? "bad" : undefined}>{i + 1}</span>,
      ),
    [lineCount, errorLine],
  );

  const saving = busy === "saving";
  const loaded = base !== null;
  const tooBig = bytes > maxBytes;

  return (
    <section class="config-editor" aria-label="OpenClaw configuration" data-testid="config-editor">
      <div class="config-bar">
        <h2 class="row">
          <span class="mono">~/.openclaw/openclaw.json</span>
          {dirty && <span class="muted" data-testid="config-dirty">(unsaved)</span>}
        </h2>
        <div class="config-actions">
          <button
            type="button"
            disabled={!ready || !loaded || busy !== ""}
            onClick={validate}
            data-testid="config-validate"
          >
            {busy === "validating" ? "Validating…" : "Validate"}
          </button>
          <button
            type="button"
            class="primary"
            disabled={!ready || !loaded || busy !== "" || !dirty || syntax !== null || tooBig}
            onClick={save}
            title={syntax ? "Fix the JSON error first" : dirty ? "" : "Nothing changed yet"}
            data-testid="config-save"
          >
            {saving ? "Saving…" : "Save and restart gateway"}
          </button>
          <button type="button" disabled={!ready || busy !== ""} onClick={reload} data-testid="config-reload">
            Reload
          </button>
        </div>
      </div>

      {confirmDiscard && (
        <div role="alert" class="row wrap" data-testid="config-discard">
          <p>Reloading replaces your unsaved edits with the file on the instance.</p>
          <button type="button" class="danger" onClick={load} data-testid="config-discard-confirm">
            Discard edits and reload
          </button>
          <button type="button" onClick={() => setConfirmDiscard(false)} data-testid="config-discard-cancel">
            Keep editing
          </button>
        </div>
      )}

      {loadError && (
        <p role="alert" data-testid="config-load-error">
          Could not read openclaw.json: {loadError}
        </p>
      )}

      {!loaded && !loadError && <p class="muted" data-testid="config-loading">Loading openclaw.json…</p>}

      {loaded && (
        <>
          <div class={syntax ? "config-code bad" : "config-code"}>
            <pre class="config-gutter" ref={gutter} aria-hidden="true" data-testid="config-gutter">{numbers}</pre>
            <textarea
              ref={area}
              class="config-text"
              wrap="off"
              spellcheck={false}
              autocomplete="off"
              autocapitalize="off"
              readOnly={saving}
              value={text}
              aria-label="openclaw.json"
              aria-invalid={syntax ? "true" : "false"}
              aria-describedby="config-syntax"
              onInput={(e) => {
                const el = e.currentTarget;
                setText(el.value);
                setCursor(caretPosition(el.value, el.selectionStart));
              }}
              onScroll={(e) => {
                if (gutter.current) gutter.current.scrollTop = e.currentTarget.scrollTop;
              }}
              onKeyDown={(e) => {
                if ((e.ctrlKey || e.metaKey) && e.key === "s") {
                  e.preventDefault();
                  save();
                }
              }}
              data-testid="config-text"
            />
          </div>
          <div class="config-status">
            <span data-testid="config-cursor">Ln {cursor.line}, Col {cursor.column}</span>
            <span>{lineCount} {lineCount === 1 ? "line" : "lines"} · {formatBytes(bytes)}</span>
            {tooBig && <span class="config-syntax error">larger than {formatBytes(maxBytes)}: cannot be saved</span>}
            {syntax
              ? (
                <span
                  id="config-syntax"
                  class="config-syntax error"
                  data-testid="config-syntax"
                  data-state="error"
                >
                  JSON error at line {syntax.line}, column {syntax.column}: {syntax.message}{" "}
                  <button
                    type="button"
                    class="link"
                    onClick={() => goTo(syntax.offset)}
                    data-testid="config-syntax-goto"
                  >
                    Go to error
                  </button>
                </span>
              )
              : (
                <span id="config-syntax" class="config-syntax ok" data-testid="config-syntax" data-state="ok">
                  Valid JSON
                </span>
              )}
          </div>
        </>
      )}

      {saving && (
        <div class="config-saving" role="status" aria-live="polite" data-testid="config-saving">
          <progress aria-label="Saving" />
          <span>
            Saving: OpenClaw checks the file, then its gateway restarts with it (usually 20–60 s) · {elapsed} s
          </span>
        </div>
      )}

      {outcome && <OutcomeView outcome={outcome} onReload={load} />}

      <div class="config-managed" data-testid="config-managed">
        <p>
          Claworc's Models settings own these parts and write them again whenever models or keys change, replacing edits
          made here:
        </p>
        <ul>
          {managed.map((m) => (
            <li key={m.path}>
              <code>{m.path}</code> ({m.what})
            </li>
          ))}
        </ul>
        <p data-testid="config-managed-now">
          In this instance now: {managedNow.length
            ? managedNow.flatMap((p, i) => [...(i ? [", "] : []), <code key={p}>{p}</code>])
            : "none (no models or keys are set for it)."}
        </p>
      </div>
    </section>
  );
}

function OutcomeView({ outcome, onReload }: { outcome: Outcome; onReload: () => void }) {
  switch (outcome.kind) {
    case "valid":
      return (
        <div role="status" data-testid="config-result" data-kind="valid">
          <p>OpenClaw accepts this configuration.</p>
          <Findings list={outcome.warnings} label="Warnings" testid="config-warning" />
        </div>
      );
    case "issues":
      return (
        <div role="alert" data-testid="config-result" data-kind="issues">
          <p>
            {outcome.detail} {outcome.from === "save" ? "Nothing was changed." : ""}
          </p>
          <Findings list={outcome.issues} label="Issues" testid="config-issue" />
        </div>
      );
    case "saved":
      return (
        <div role="status" data-testid="config-result" data-kind="saved">
          <p>
            Saved in {outcome.seconds.toFixed(1)} s: OpenClaw accepted the file and its gateway restarted with it.
          </p>
          <Findings list={outcome.warnings} label="Warnings" testid="config-warning" />
        </div>
      );
    case "changed":
      return (
        <div role="alert" class="row wrap" data-testid="config-result" data-kind="changed">
          <p>
            openclaw.json changed on the instance since you loaded it, so nothing was saved. Reload it (your edits here
            are replaced) and make your change again.
          </p>
          <button type="button" onClick={onReload} data-testid="config-changed-reload">Reload</button>
        </div>
      );
    case "refused":
      return (
        <div role="alert" data-testid="config-result" data-kind="refused">
          <p>{outcome.detail} Your edits are still here.</p>
          {outcome.log && (
            <details>
              <summary>The gateway's log</summary>
              <pre class="config-log" data-testid="config-gateway-log">{outcome.log}</pre>
            </details>
          )}
        </div>
      );
    case "error":
      return <p role="alert" data-testid="config-result" data-kind="error">{outcome.detail}</p>;
  }
}

function Findings({ list, label, testid }: { list: Finding[]; label: string; testid: string }) {
  if (!list.length) return null;
  return (
    <ul class="config-findings" aria-label={label}>
      {list.map((f, i) => (
        <li key={i} data-testid={testid}>
          <code data-testid={`${testid}-path`}>{f.path || "<root>"}</code>: {f.message}
        </li>
      ))}
    </ul>
  );
}

/** What a failed validate or save means for the person editing. */
function failure(e: unknown, from: "validate" | "save"): Outcome {
  if (!(e instanceof ApiError)) {
    return { kind: "error", detail: (e as Error)?.message || "Something went wrong." };
  }
  if (e.code === "CONFIG_INVALID") return { kind: "issues", from, detail: e.message, issues: findingsOf(e.body) };
  if (e.code === "CONFIG_CHANGED") return { kind: "changed", detail: e.message };
  if (e.code === "CONFIG_REFUSED") {
    return {
      kind: "refused",
      detail: e.message,
      log: typeof e.body.gateway_log === "string" ? e.body.gateway_log : "",
    };
  }
  return { kind: "error", detail: e.message };
}

function countLines(text: string): number {
  let n = 1;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) n++;
  return n;
}

/** 1-based line and column of an offset (UTF-16 units, as the textarea counts). */
function caretPosition(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf("\n") + 1;
  return { line: countLines(before), column: offset - lineStart + 1 };
}

function formatBytes(n: number): string {
  return n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} KiB`;
}
