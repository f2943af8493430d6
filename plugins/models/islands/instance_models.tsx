import { useState } from "preact/hooks";
import { api, errorText, useHydrated } from "../../../islands/_api.ts";
import { utcTime } from "../../../islands/_time.ts";
import { type KeyRow, keysPatch, KeyTable, useKeyEdits } from "./_key_table.tsx";
import { ModelList, ModelSuggestions } from "./_model_list.tsx";
import { RolloutProgress, useRollout } from "./_rollout.tsx";
import type { Flash, InstanceView, KeysPatch, MaskedKey, Rollout, SyncState } from "./_types.ts";
import { sameList } from "./_types.ts";

/** The global choice the override form starts from (given to admins only). */
export interface GlobalChoice {
  primary: string | null;
  fallbacks: string[];
  /** Global keys, masked: what applies where the instance has no key of its own. */
  keys: MaskedKey[];
  /** Model references offered in the model inputs. */
  suggestions: string[];
}

export interface InstanceModelsProps {
  instanceId: number;
  isAdmin: boolean;
  initial: InstanceView;
  /** Providers a key can be given for (built-in, then custom), with their labels. */
  providers: { id: string; label: string; kind: "model" | "search" | "custom" }[];
  global: GlobalChoice | null;
}

interface InstancePatch {
  primary?: string | null;
  extra_models?: string[];
  disabled_models?: string[];
  keys?: KeysPatch;
}

const SUGGESTIONS = "instance-model-suggestions";

/**
 * An instance's Models tab: the model order and keys it runs with and whether that is applied; for
 * admins, its overrides of the global choice (own default, extra and disabled models, own keys),
 * saved and rolled out to it at once. Others see the same read-only.
 */
export default function InstanceModels({ instanceId, isAdmin, initial, providers, global }: InstanceModelsProps) {
  const ready = useHydrated();
  const [view, setView] = useState<InstanceView>(initial);
  const [refreshing, setRefreshing] = useState(false);
  const [refreshError, setRefreshError] = useState("");
  const [flash, setFlash] = useState<Flash>(null);
  const path = `/api/v1/instances/${instanceId}/models`;
  const label = (id: string) => providers.find((p) => p.id === id)?.label ?? id;

  async function refresh(): Promise<InstanceView | null> {
    setRefreshing(true);
    try {
      const next = await api<InstanceView>("GET", path);
      setView(next);
      setRefreshError("");
      return next;
    } catch (e) {
      setRefreshError(errorText(e));
      return null;
    } finally {
      setRefreshing(false);
    }
  }

  const { rollout, error: rolloutError, follow } = useRollout(async (r: Rollout) => {
    const result = r.results[0];
    await refresh();
    if (!result) return;
    if (result.state === "failed") setFlash({ ok: false, text: `Saved, but applying it failed: ${result.error}` });
    else if (result.state === "waiting") setFlash({ ok: true, text: "Saved; the instance gets it at its next start." });
    else if (result.state === "unchanged") setFlash({ ok: true, text: "Saved; the instance already ran this." });
    else setFlash({ ok: true, text: "Saved and applied." });
  });

  return (
    <div class="stack" data-testid="instance-models">
      <section class="card stack" aria-labelledby="effective-heading">
        <div class="row between wrap">
          <h2 id="effective-heading">What this instance runs</h2>
          <button
            type="button"
            class="ghost"
            disabled={!ready || refreshing}
            onClick={() => void refresh()}
            data-testid="models-refresh"
          >
            {refreshing ? "Refreshing…" : "Refresh"}
          </button>
        </div>
        <Sync sync={view.sync} />
        {refreshError && <p role="alert" data-testid="models-refresh-error">Could not refresh: {refreshError}</p>}
        <div class="grid">
          <div class="stack tight">
            <h3>Models, in order</h3>
            {view.effective.models.length === 0
              ? (
                <p class="muted" data-testid="effective-models-empty">
                  No default model is set: Claworc leaves the agent's own model choice alone.
                </p>
              )
              : (
                <ol data-testid="effective-models">
                  {view.effective.models.map((m, i) => (
                    <li key={m} data-testid="effective-model" data-model={m}>
                      <span class="mono">{m}</span> <span class="muted">{i === 0 ? "(default)" : "(fallback)"}</span>
                    </li>
                  ))}
                </ol>
              )}
          </div>
          <div class="stack tight">
            <h3>Keys that apply</h3>
            {view.effective.keys.length === 0
              ? <p class="muted" data-testid="effective-keys-empty">No provider key applies to this instance.</p>
              : (
                <ul data-testid="effective-keys">
                  {view.effective.keys.map((k) => (
                    <li key={k.provider} data-testid={`effective-key-${k.provider}`} data-source={k.source}>
                      {label(k.provider)} <span class="muted mono">{k.provider}</span>: {k.source === "instance"
                        ? <span class="badge user">this instance's key</span>
                        : k.source === "global"
                        ? <span class="badge">global key</span>
                        : <span class="badge">key</span>}
                    </li>
                  ))}
                </ul>
              )}
          </div>
        </div>
      </section>

      {isAdmin && global
        ? (
          <OverrideForm
            ready={ready}
            path={path}
            view={view}
            providers={providers}
            global={global}
            onSaved={(next, r) => {
              setView(next);
              follow(r);
            }}
            flash={flash}
            setFlash={setFlash}
          />
        )
        : <ReadOnlyOverrides view={view} label={label} />}
      {rollout && <RolloutProgress rollout={rollout} error={rolloutError} />}
    </div>
  );
}

function Sync({ sync }: { sync: SyncState }) {
  return (
    <div class="stack tight" data-testid="sync" data-state={sync.state}>
      <p aria-live="polite">
        {sync.state === "applied" && <span class="badge success" data-testid="sync-state">applied</span>}
        {sync.state === "pending" && (
          <span class="badge denied" data-testid="sync-state">pending (applies at next start)</span>
        )}
        {sync.state === "failed" && <span class="badge failure" data-testid="sync-state">failed</span>}{" "}
        {sync.state === "applied" && (
          <span class="muted">
            The instance runs the current configuration
            {sync.applied_at && (
              <>
                {" "}since <time dateTime={sync.applied_at}>{utcTime(sync.applied_at)}</time>
              </>
            )}.
          </span>
        )}
        {sync.state === "pending" && (
          <span class="muted">
            It gets the current configuration when it next starts or reconnects (or as soon as a running rollout reaches
            it).
          </span>
        )}
        {sync.state === "failed" && <span class="muted">The last attempt to apply the configuration failed.</span>}
      </p>
      {sync.last_error && <code class="details" data-testid="sync-error">{sync.last_error}</code>}
    </div>
  );
}

/** The overrides as text, for users who may see but not change them. */
function ReadOnlyOverrides({ view, label }: { view: InstanceView; label: (id: string) => string }) {
  const list = (items: string[], testid: string) =>
    items.length
      ? <span class="mono" data-testid={testid}>{items.join(", ")}</span>
      : <span class="muted" data-testid={testid}>none</span>;
  return (
    <section class="card stack" aria-labelledby="overrides-heading" data-testid="overrides-readonly">
      <h2 id="overrides-heading">This instance's overrides</h2>
      <dl class="ssh-metrics">
        <div>
          <dt>Default model</dt>
          <dd data-testid="ro-primary">
            {view.primary ? <span class="mono">{view.primary}</span> : "follows the global default"}
          </dd>
        </div>
        <div>
          <dt>Extra models</dt>
          <dd>{list(view.extra_models, "ro-extra")}</dd>
        </div>
        <div>
          <dt>Disabled models</dt>
          <dd>{list(view.disabled_models, "ro-disabled")}</dd>
        </div>
        <div>
          <dt>Own keys</dt>
          <dd data-testid="ro-keys">
            {view.keys.length
              ? view.keys.map((k) => (
                <span key={k.provider} class="nowrap">
                  {label(k.provider)} <code>{k.masked}</code>
                  {" "}
                </span>
              ))
              : <span class="muted">none</span>}
          </dd>
        </div>
      </dl>
      <p class="hint">Only administrators can change the models and keys of an instance.</p>
    </section>
  );
}

function OverrideForm(
  { ready, path, view, providers, global, onSaved, flash, setFlash }: {
    ready: boolean;
    path: string;
    view: InstanceView;
    providers: InstanceModelsProps["providers"];
    global: GlobalChoice;
    onSaved: (view: InstanceView, rollout: Rollout) => void;
    flash: Flash;
    setFlash: (f: Flash) => void;
  },
) {
  const [own, setOwn] = useState(view.primary !== null);
  const [primary, setPrimary] = useState(view.primary ?? "");
  const [extra, setExtra] = useState<string[]>(view.extra_models);
  const [disabledModels, setDisabledModels] = useState<string[]>(view.disabled_models);
  const keyEdits = useKeyEdits();
  const [busy, setBusy] = useState(false);

  const stored = new Map(view.keys.map((k) => [k.provider, k]));
  const globalKeys = new Map(global.keys.map((k) => [k.provider, k]));
  const allowed = new Set(providers.map((p) => p.id));
  const globalModels = [...new Set([global.primary, ...global.fallbacks].filter((m): m is string => m !== null))];
  const disableChoices = [...globalModels, ...view.disabled_models.filter((m) => !globalModels.includes(m))];

  function reset(v: InstanceView) {
    setOwn(v.primary !== null);
    setPrimary(v.primary ?? "");
    setExtra(v.extra_models);
    setDisabledModels(v.disabled_models);
    keyEdits.reset();
  }

  function changes(): InstancePatch {
    const body: InstancePatch = {};
    const p = own ? primary.trim() || null : null;
    if (p !== view.primary) body.primary = p;
    if (!sameList(extra, view.extra_models)) body.extra_models = extra;
    if (!sameList(disabledModels, view.disabled_models)) body.disabled_models = disabledModels;
    const keys = keysPatch(keyEdits.edits, keyEdits.removals, new Set(stored.keys()), allowed);
    if (Object.keys(keys).length) body.keys = keys;
    return body;
  }

  async function save(e: Event) {
    e.preventDefault();
    if (busy) return;
    if (own && !primary.trim()) {
      return setFlash({ ok: false, text: "Type this instance's own default model, or let it follow the global one." });
    }
    const body = changes();
    if (!Object.keys(body).length) return setFlash({ ok: true, text: "Nothing changed; there is nothing to save." });
    setBusy(true);
    setFlash(null);
    try {
      const { rollout, ...next } = await api<InstanceView & { rollout: Rollout }>("PUT", path, body);
      reset(next);
      onSaved(next, rollout);
      setFlash({ ok: true, text: "Saved. Applying it to the instance (progress below)…" });
    } catch (err) {
      setFlash({ ok: false, text: errorText(err) });
    } finally {
      setBusy(false);
    }
  }

  const rows: KeyRow[] = [
    ...providers.map((p) => {
      const g = globalKeys.get(p.id);
      return {
        id: p.id,
        label: p.label,
        note: p.kind === "search" ? "web search tool" : p.kind === "custom" ? "custom provider" : undefined,
        masked: stored.get(p.id)?.masked ?? null,
        updated_at: stored.get(p.id)?.updated_at,
        unset: g ? `uses the global key ${g.masked}` : "no key (none set globally either)",
        editable: true,
      };
    }),
    ...view.keys.filter((k) => !allowed.has(k.provider)).map((k) => ({
      id: k.provider,
      label: k.provider,
      note: "no such provider any more: this key is not used",
      masked: k.masked,
      updated_at: k.updated_at,
      unset: "",
      editable: false,
    })),
  ];
  const pending = changes();
  const dirty = Object.keys(pending).length > 0;
  const disabled = !ready || busy;

  return (
    <form class="card stack" method="post" noValidate onSubmit={save} data-testid="overrides-form">
      <h2>This instance's overrides</h2>
      <ModelSuggestions id={SUGGESTIONS} models={[...global.suggestions, ...globalModels]} />
      <fieldset class="stack">
        <legend>Default model</legend>
        <label class="check">
          <input
            type="radio"
            name="primary-mode"
            checked={!own}
            disabled={disabled}
            onChange={() => setOwn(false)}
            data-testid="primary-follow"
          />
          Follow the global default <span class="muted mono">{global.primary ?? "(none set)"}</span>
        </label>
        <label class="check">
          <input
            type="radio"
            name="primary-mode"
            checked={own}
            disabled={disabled}
            onChange={() => setOwn(true)}
            data-testid="primary-own"
          />
          Its own default model
        </label>
        <label class="narrow">
          Own default model
          <input
            list={SUGGESTIONS}
            autocomplete="off"
            spellcheck={false}
            placeholder="provider/model"
            value={primary}
            disabled={disabled || !own}
            onInput={(e) => setPrimary(e.currentTarget.value)}
            data-testid="instance-primary-input"
          />
        </label>
      </fieldset>
      <ModelList
        title="Extra models"
        hint="Tried after the global fallbacks, in this order."
        items={extra}
        onChange={setExtra}
        disabled={disabled}
        datalist={SUGGESTIONS}
        testid="extra"
        max={20}
      />
      <fieldset class="stack" data-testid="disabled-models">
        <legend>Disabled models</legend>
        <p class="hint">Global models this instance must not use.</p>
        {disableChoices.length === 0
          ? <p class="muted">No global default or fallback is set.</p>
          : (
            <div class="checklist">
              {disableChoices.map((m) => (
                <label class="check" key={m}>
                  <input
                    type="checkbox"
                    checked={disabledModels.includes(m)}
                    disabled={disabled}
                    onChange={(e) => {
                      const on = e.currentTarget.checked;
                      setDisabledModels((x) => (on ? (x.includes(m) ? x : [...x, m]) : x.filter((y) => y !== m)));
                    }}
                    data-testid="disable-model"
                    data-model={m}
                  />
                  <span class="mono">{m}</span>
                  {!globalModels.includes(m) && <span class="muted">(no longer a global model)</span>}
                </label>
              ))}
            </div>
          )}
      </fieldset>
      <fieldset class="stack">
        <legend>Keys of this instance</legend>
        <p class="hint">A key set here replaces the global key for this instance only.</p>
        <KeyTable
          rows={rows}
          {...keyEdits}
          disabled={disabled}
          testid="instance-keys-table"
          caption="Keys of this instance"
        />
      </fieldset>
      <div class="row wrap">
        <button type="submit" class="primary" disabled={disabled} data-testid="instance-models-save">
          {busy ? "Saving…" : "Save and apply"}
        </button>
        <button
          type="button"
          class="ghost"
          disabled={disabled || !dirty}
          onClick={() => {
            reset(view);
            setFlash(null);
          }}
          data-testid="instance-models-discard"
        >
          Discard changes
        </button>
        <span class="hint" aria-live="polite" data-testid="instance-models-dirty">
          {dirty ? "You have unsaved changes." : "No unsaved changes."}
        </span>
      </div>
      {flash && <p role={flash.ok ? "status" : "alert"} data-testid="instance-models-message">{flash.text}</p>}
    </form>
  );
}
