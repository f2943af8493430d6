import { useState } from "preact/hooks";

/**
 * An ordered list of model references with add, remove and move up/down (fallbacks, an instance's
 * extra models). `testid` prefixes every control's data-testid; `datalist` names suggestions.
 */
export function ModelList(
  { title, hint, items, onChange, disabled, datalist, testid, max }: {
    title: string;
    hint: string;
    items: string[];
    onChange: (next: string[]) => void;
    disabled: boolean;
    datalist: string;
    testid: string;
    max: number;
  },
) {
  const [draft, setDraft] = useState("");
  const [problem, setProblem] = useState("");
  const inputId = `${testid}-new`;

  function add(e: Event) {
    e.preventDefault();
    const value = draft.trim();
    if (!value) return setProblem("Type a model reference such as provider/model first.");
    if (items.includes(value)) return setProblem(`${value} is already in the list.`);
    if (items.length >= max) return setProblem(`At most ${max} models.`);
    setProblem("");
    setDraft("");
    onChange([...items, value]);
  }

  function move(i: number, by: number) {
    const next = [...items];
    const [item] = next.splice(i, 1);
    next.splice(i + by, 0, item);
    onChange(next);
  }

  return (
    <fieldset class="stack" data-testid={testid}>
      <legend>{title}</legend>
      <p class="hint">{hint}</p>
      {items.length === 0 ? <p class="muted" data-testid={`${testid}-empty`}>None.</p> : (
        <div class="table-wrap">
          <table class="data">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Model</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((m, i) => (
                <tr key={m} data-testid={`${testid}-item`} data-model={m}>
                  <td>{i + 1}</td>
                  <th scope="row" class="mono">{m}</th>
                  <td class="actions-cell">
                    <div class="row">
                      <button
                        type="button"
                        class="ghost icon"
                        disabled={disabled || i === 0}
                        aria-label={`Move ${m} up`}
                        onClick={() => move(i, -1)}
                        data-testid={`${testid}-up`}
                      >
                        ↑
                      </button>
                      <button
                        type="button"
                        class="ghost icon"
                        disabled={disabled || i === items.length - 1}
                        aria-label={`Move ${m} down`}
                        onClick={() => move(i, 1)}
                        data-testid={`${testid}-down`}
                      >
                        ↓
                      </button>
                      <button
                        type="button"
                        class="danger"
                        disabled={disabled}
                        aria-label={`Remove ${m}`}
                        onClick={() => onChange(items.filter((x) => x !== m))}
                        data-testid={`${testid}-remove`}
                      >
                        Remove
                      </button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div class="row wrap">
        <label class="grow">
          Add a model
          <input
            id={inputId}
            list={datalist}
            autocomplete="off"
            spellcheck={false}
            placeholder="provider/model"
            value={draft}
            disabled={disabled}
            onInput={(e) => setDraft(e.currentTarget.value)}
            onKeyDown={(e) => {
              if (e.key === "Enter") add(e);
            }}
            data-testid={`${testid}-input`}
          />
        </label>
        <button type="button" disabled={disabled} onClick={add} data-testid={`${testid}-add`}>Add</button>
      </div>
      {problem && <p role="alert" data-testid={`${testid}-problem`}>{problem}</p>}
    </fieldset>
  );
}

/** The `<datalist>` of model references offered by the model inputs. */
export function ModelSuggestions({ id, models }: { id: string; models: string[] }) {
  return (
    <datalist id={id} data-testid={id}>
      {[...new Set(models)].map((m) => <option key={m} value={m} />)}
    </datalist>
  );
}
