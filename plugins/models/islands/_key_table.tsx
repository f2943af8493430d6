import { useState } from "preact/hooks";
import { utcTime } from "../../../islands/_time.ts";

/** The keys being typed and the ones marked for removal, with the handlers `KeyTable` takes. */
export function useKeyEdits() {
  const [edits, setEdits] = useState<Record<string, string>>({});
  const [removals, setRemovals] = useState<string[]>([]);
  return {
    edits,
    removals,
    onEdit: (id: string, value: string) => setEdits((x) => ({ ...x, [id]: value })),
    onToggleRemove: (id: string) => setRemovals((x) => (x.includes(id) ? x.filter((y) => y !== id) : [...x, id])),
    reset: () => {
      setEdits({});
      setRemovals([]);
    },
  };
}

/** One provider's key as a row: what is stored (masked), or what applies without one. */
export interface KeyRow {
  id: string;
  label: string;
  /** A short note under the name (e.g. "web search", "custom"). */
  note?: string;
  /** The stored key, masked; null when none is stored at this scope. */
  masked: string | null;
  updated_at?: string;
  /** What the status says when no key is stored here (e.g. "not set"). */
  unset: string;
  /** False for a key that can no longer be changed (its provider is gone). */
  editable: boolean;
}

/**
 * Provider keys: status (masked or unset), a password field to set or replace the key, and Remove
 * (undoable until saved). Typed keys stay in the browser until Save and are cleared after it; the
 * page never receives a stored key, only its masked form.
 */
export function KeyTable(
  { rows, edits, removals, onEdit, onToggleRemove, disabled, testid, caption }: {
    rows: KeyRow[];
    edits: Record<string, string>;
    removals: string[];
    onEdit: (id: string, value: string) => void;
    onToggleRemove: (id: string) => void;
    disabled: boolean;
    testid: string;
    caption: string;
  },
) {
  return (
    <div class="table-wrap">
      <table class="data" data-testid={testid}>
        <caption class="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Provider</th>
            <th scope="col">Status</th>
            <th scope="col">New key</th>
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => {
            const removing = removals.includes(r.id);
            const typed = (edits[r.id] ?? "") !== "";
            return (
              <tr key={r.id} data-testid={`key-row-${r.id}`}>
                <th scope="row">
                  {r.label} <span class="muted mono">{r.id}</span>
                  {r.note && (
                    <>
                      <br />
                      <span class="hint">{r.note}</span>
                    </>
                  )}
                </th>
                <td data-testid={`key-status-${r.id}`}>
                  {removing ? <span class="badge denied">removed when you save</span> : r.masked
                    ? (
                      <>
                        <code data-testid={`key-masked-${r.id}`}>{r.masked}</code>
                        {r.updated_at && (
                          <span class="hint">
                            &nbsp;set <time dateTime={r.updated_at}>{utcTime(r.updated_at)}</time>
                          </span>
                        )}
                      </>
                    )
                    : <span class="muted">{r.unset}</span>}
                  {typed && !removing && <span class="badge user">new key when you save</span>}
                </td>
                <td>
                  {r.editable && (
                    <input
                      type="password"
                      autocomplete="new-password"
                      spellcheck={false}
                      aria-label={`${r.masked ? "Replace" : "Set"} the key for ${r.label}`}
                      placeholder={r.masked ? "Replace key" : "Set key"}
                      value={edits[r.id] ?? ""}
                      disabled={disabled || removing}
                      onInput={(e) => onEdit(r.id, e.currentTarget.value)}
                      data-testid={`key-input-${r.id}`}
                    />
                  )}
                </td>
                <td class="actions-cell">
                  {r.editable && r.masked && (
                    <button
                      type="button"
                      class={removing ? "ghost" : "danger"}
                      disabled={disabled}
                      aria-pressed={removing}
                      aria-label={removing ? `Keep the key for ${r.label}` : `Remove the key for ${r.label}`}
                      onClick={() => onToggleRemove(r.id)}
                      data-testid={`key-remove-${r.id}`}
                    >
                      {removing ? "Keep" : "Remove"}
                    </button>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** The keys patch for what was typed and what was marked for removal (only providers in `allowed`). */
export function keysPatch(
  edits: Record<string, string>,
  removals: string[],
  stored: Set<string>,
  allowed: Set<string>,
): Record<string, string | null> {
  const patch: Record<string, string | null> = {};
  for (const id of removals) if (stored.has(id) && allowed.has(id)) patch[id] = null;
  for (const [id, value] of Object.entries(edits)) {
    const key = value.trim();
    if (key && allowed.has(id) && !removals.includes(id)) patch[id] = key;
  }
  return patch;
}
