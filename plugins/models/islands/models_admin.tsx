import { useState } from "preact/hooks";
import { api, errorText, useHydrated } from "../../../islands/_api.ts";
import { type KeyRow, keysPatch, KeyTable, useKeyEdits } from "./_key_table.tsx";
import { ModelList, ModelSuggestions } from "./_model_list.tsx";
import { RolloutProgress, useRollout } from "./_rollout.tsx";
import {
  type CustomProvider,
  type Flash,
  type GlobalView,
  type KeysPatch,
  normalizeCustom,
  type Rollout,
  sameCustoms,
  sameList,
  splitList,
} from "./_types.ts";

export interface ModelsAdminProps {
  initial: GlobalView;
}

interface GlobalPatch {
  primary?: string | null;
  fallbacks?: string[];
  custom_providers?: CustomProvider[];
  keys?: KeysPatch;
}

const SUGGESTIONS = "model-suggestions";

/**
 * Models and provider keys for every instance (admin): the default model and its fallbacks, a key
 * per provider (shown masked only), custom OpenAI-compatible providers. Save sends only what
 * changed, then follows the rollout to each instance.
 */
export default function ModelsAdmin({ initial }: ModelsAdminProps) {
  const ready = useHydrated();
  const [saved, setSaved] = useState<GlobalView>(initial);
  const [primary, setPrimary] = useState(initial.primary ?? "");
  const [fallbacks, setFallbacks] = useState<string[]>(initial.fallbacks);
  const [customs, setCustoms] = useState<CustomProvider[]>(initial.custom_providers.map(normalizeCustom));
  const keyEdits = useKeyEdits();
  const [busy, setBusy] = useState(false);
  const [flash, setFlash] = useState<Flash>(null);
  const { rollout, error: rolloutError, follow } = useRollout((r) => setFlash(doneText(r)));

  const stored = new Map(saved.keys.map((k) => [k.provider, k]));
  const builtinIds = new Set(saved.providers.map((p) => p.id));
  const customIds = new Set(customs.map((c) => c.id));
  const allowed = new Set([...builtinIds, ...customIds]);

  /** What Save would send: only the parts that differ from what is saved. */
  function changes(): GlobalPatch {
    const body: GlobalPatch = {};
    const p = primary.trim() || null;
    if (p !== saved.primary) body.primary = p;
    if (!sameList(fallbacks, saved.fallbacks)) body.fallbacks = fallbacks;
    if (!sameCustoms(customs, saved.custom_providers)) body.custom_providers = customs;
    const keys = keysPatch(keyEdits.edits, keyEdits.removals, new Set(stored.keys()), allowed);
    if (Object.keys(keys).length) body.keys = keys;
    return body;
  }

  const pending = changes();
  const dirty = Object.keys(pending).length > 0;

  function show(view: GlobalView) {
    setSaved(view);
    setPrimary(view.primary ?? "");
    setFallbacks(view.fallbacks);
    setCustoms(view.custom_providers.map(normalizeCustom));
    keyEdits.reset();
  }

  async function save(e: Event) {
    e.preventDefault();
    if (busy) return;
    const body = changes();
    if (!Object.keys(body).length) return setFlash({ ok: true, text: "Nothing changed; there is nothing to save." });
    setBusy(true);
    setFlash(null);
    try {
      // A custom provider removed takes its stored keys with it (the API does that).
      const view = await api<GlobalView & { rollout: Rollout }>("PUT", "/api/v1/models", body);
      const { rollout: started, ...rest } = view;
      show(rest);
      follow(started);
      setFlash({
        ok: true,
        text: started.results.length
          ? "Saved. The change is being applied to every instance (progress below)."
          : "Saved. There is no instance yet; new instances start with this configuration.",
      });
    } catch (err) {
      setFlash({ ok: false, text: errorText(err) });
    } finally {
      setBusy(false);
    }
  }

  function discard() {
    show(saved);
    setFlash(null);
  }

  const rows: KeyRow[] = [
    ...saved.providers.map((p) => ({
      id: p.id,
      label: p.label,
      note: p.kind === "search" ? "web search tool" : undefined,
      masked: stored.get(p.id)?.masked ?? null,
      updated_at: stored.get(p.id)?.updated_at,
      unset: "not set",
      editable: true,
    })),
    ...customs.map((c) => ({
      id: c.id,
      label: c.label || c.id,
      note: "custom provider",
      masked: stored.get(c.id)?.masked ?? null,
      updated_at: stored.get(c.id)?.updated_at,
      unset: "not set",
      editable: true,
    })),
    // Keys stored for a provider that no longer exists: unused by any instance.
    ...saved.keys.filter((k) => !allowed.has(k.provider) && !saved.custom_providers.some((c) => c.id === k.provider))
      .map((k) => ({
        id: k.provider,
        label: k.provider,
        note: "no such provider any more: this key is not used",
        masked: k.masked,
        updated_at: k.updated_at,
        unset: "not set",
        editable: false,
      })),
  ];

  const suggestions = [
    ...saved.providers.flatMap((p) => (p.example ? [p.example] : [])),
    ...customs.flatMap((c) => c.models.map((m) => `${c.id}/${m}`)),
  ];
  const disabled = !ready || busy;

  return (
    <div class="stack">
      <p class="muted">
        What every instance runs unless its own Models tab overrides it. Keys are stored encrypted and written to each
        instance in a file only its agent can read; this page only ever shows their last characters.
      </p>
      <form class="stack" method="post" noValidate onSubmit={save} data-testid="models-form">
        <ModelSuggestions id={SUGGESTIONS} models={suggestions} />
        <section class="card stack" aria-labelledby="default-model-heading">
          <h2 id="default-model-heading">Default model</h2>
          <label class="narrow">
            Default model
            <input
              name="primary"
              list={SUGGESTIONS}
              autocomplete="off"
              spellcheck={false}
              placeholder="provider/model, e.g. anthropic/claude-sonnet-4-5"
              value={primary}
              disabled={disabled}
              onInput={(e) => setPrimary(e.currentTarget.value)}
              aria-describedby="primary-hint"
              data-testid="primary-input"
            />
            <span id="primary-hint" class="hint">
              Empty: Claworc leaves each agent's model choice alone. Saved:{" "}
              <strong data-testid="saved-primary">{saved.primary ?? "none"}</strong>.
            </span>
          </label>
          <ModelList
            title="Fallbacks, in order"
            hint="Tried in this order when the default model fails."
            items={fallbacks}
            onChange={setFallbacks}
            disabled={disabled}
            datalist={SUGGESTIONS}
            testid="fallbacks"
            max={10}
          />
        </section>

        <section class="card stack" aria-labelledby="keys-heading">
          <h2 id="keys-heading">Provider keys</h2>
          <p class="hint">
            A key set here applies to every instance that has no key of its own for that provider.
          </p>
          <KeyTable
            rows={rows}
            {...keyEdits}
            disabled={disabled}
            testid="keys-table"
            caption="Provider keys"
          />
        </section>

        <section class="card stack" aria-labelledby="custom-heading">
          <h2 id="custom-heading">Custom providers</h2>
          <p class="hint">
            OpenAI-compatible endpoints (a local model server, a gateway). Their models are referred to as{" "}
            <code>provider-id/model-id</code>; set a key for one in Provider keys above.
          </p>
          {customs.length === 0
            ? <p class="muted" data-testid="custom-empty">No custom provider.</p>
            : (
              <div class="table-wrap">
                <table class="data" data-testid="custom-table">
                  <thead>
                    <tr>
                      <th scope="col">Id</th>
                      <th scope="col">Label</th>
                      <th scope="col">Base URL</th>
                      <th scope="col">Models</th>
                      <th scope="col">
                        <span class="visually-hidden">Actions</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {customs.map((c) => {
                      const isNew = !saved.custom_providers.some((s) => s.id === c.id);
                      return (
                        <tr key={c.id} data-testid={`custom-row-${c.id}`}>
                          <th scope="row" class="mono">
                            {c.id} {isNew && <span class="badge user">not saved</span>}
                          </th>
                          <td>{c.label || <span class="muted">—</span>}</td>
                          <td class="mono">{c.base_url}</td>
                          <td class="mono">{c.models.join(", ")}</td>
                          <td class="actions-cell">
                            <button
                              type="button"
                              class="danger"
                              disabled={disabled}
                              aria-label={`Remove the provider ${c.id}`}
                              onClick={() => setCustoms((x) => x.filter((y) => y.id !== c.id))}
                              data-testid={`custom-remove-${c.id}`}
                            >
                              Remove
                            </button>
                          </td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
            )}
          <AddCustomProvider
            disabled={disabled}
            taken={[...allowed]}
            onAdd={(p) => setCustoms((x) => [...x, p])}
          />
        </section>

        <div class="row wrap">
          <button type="submit" class="primary" disabled={disabled} data-testid="models-save">
            {busy ? "Saving…" : "Save changes"}
          </button>
          <button
            type="button"
            class="ghost"
            disabled={disabled || !dirty}
            onClick={discard}
            data-testid="models-discard"
          >
            Discard changes
          </button>
          <span class="hint" aria-live="polite" data-testid="models-dirty">
            {dirty ? `Unsaved: ${describe(pending)}.` : "No unsaved changes."}
          </span>
        </div>
        {flash && <p role={flash.ok ? "status" : "alert"} data-testid="models-message">{flash.text}</p>}
      </form>
      {rollout && <RolloutProgress rollout={rollout} error={rolloutError} />}
    </div>
  );
}

/** The fields to add one custom provider; it joins the list and is stored with Save. */
function AddCustomProvider(
  { disabled, taken, onAdd }: { disabled: boolean; taken: string[]; onAdd: (p: CustomProvider) => void },
) {
  const [id, setId] = useState("");
  const [label, setLabel] = useState("");
  const [baseUrl, setBaseUrl] = useState("");
  const [models, setModels] = useState("");
  const [problem, setProblem] = useState("");

  function add() {
    const pid = id.trim();
    const list = splitList(models);
    if (!pid || !baseUrl.trim() || !list.length) {
      return setProblem("A custom provider needs an id, a base URL and at least one model id.");
    }
    if (taken.includes(pid)) return setProblem(`There is already a provider with the id ${pid}.`);
    setProblem("");
    onAdd({ id: pid, label: label.trim(), base_url: baseUrl.trim(), models: list });
    setId("");
    setLabel("");
    setBaseUrl("");
    setModels("");
  }

  return (
    <fieldset class="stack" data-testid="custom-add">
      <legend>Add a custom provider</legend>
      <div class="grid">
        <label>
          Id
          <input
            autocomplete="off"
            spellcheck={false}
            placeholder="e.g. local"
            value={id}
            disabled={disabled}
            onInput={(e) => setId(e.currentTarget.value)}
            aria-describedby="custom-id-hint"
            data-testid="custom-id"
          />
          <span id="custom-id-hint" class="hint">Lower-case letters, digits, - and _.</span>
        </label>
        <label>
          Label
          <input
            autocomplete="off"
            placeholder="optional"
            value={label}
            disabled={disabled}
            onInput={(e) => setLabel(e.currentTarget.value)}
            data-testid="custom-label"
          />
        </label>
        <label>
          Base URL
          <input
            type="url"
            autocomplete="off"
            spellcheck={false}
            placeholder="http://host:port/v1"
            value={baseUrl}
            disabled={disabled}
            onInput={(e) => setBaseUrl(e.currentTarget.value)}
            data-testid="custom-base-url"
          />
        </label>
      </div>
      <label>
        Model ids
        <textarea
          rows={2}
          spellcheck={false}
          placeholder="one per line, or separated by commas"
          value={models}
          disabled={disabled}
          onInput={(e) => setModels(e.currentTarget.value)}
          data-testid="custom-models"
        />
      </label>
      <div class="row wrap">
        <button type="button" disabled={disabled} onClick={add} data-testid="custom-add-button">
          Add provider
        </button>
        <span class="hint">Added providers are stored when you save.</span>
      </div>
      {problem && <p role="alert" data-testid="custom-problem">{problem}</p>}
    </fieldset>
  );
}

function describe(p: GlobalPatch): string {
  const parts: string[] = [];
  if ("primary" in p) parts.push("default model");
  if (p.fallbacks) parts.push("fallbacks");
  if (p.custom_providers) parts.push("custom providers");
  if (p.keys) parts.push(`keys (${Object.keys(p.keys).join(", ")})`);
  return parts.join(", ");
}

function doneText(r: Rollout): Flash {
  if (!r.results.length) {
    return { ok: true, text: "Saved. There is no instance yet; new instances start with this configuration." };
  }
  const failed = r.results.filter((x) => x.state === "failed").length;
  const waiting = r.results.filter((x) => x.state === "waiting").length;
  if (failed) return { ok: false, text: `Saved, but ${failed} instance(s) could not apply it; see the errors below.` };
  if (waiting) {
    return { ok: true, text: `Applied where running; ${waiting} stopped instance(s) get it at their next start.` };
  }
  return { ok: true, text: "Saved and applied." };
}
