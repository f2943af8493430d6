import type { Entry } from "./_files_api.ts";

/** Which inline form is showing (one at a time). */
export type Form =
  | { kind: "new-file" | "new-folder"; value: string }
  | { kind: "rename"; name: string; value: string }
  | { kind: "delete"; name: string; type: Entry["type"] };

export interface EntryFormProps {
  form: Form;
  /** Names in the current folder (a rename onto one is flagged before it is sent). */
  existing: Set<string>;
  onChange: (form: Form) => void;
  onSubmit: (e: Event) => void;
  onCancel: () => void;
}

/** The inline form for a new file or folder, a rename, or the confirmation before a delete. */
export function EntryForm({ form, existing, onChange, onSubmit, onCancel }: EntryFormProps) {
  return (
    <form class="card confirm row wrap" onSubmit={onSubmit} data-testid="files-form">
      {form.kind === "delete"
        ? (
          <>
            <span>
              Delete {form.type === "directory" ? "the folder" : ""} <strong class="mono">{form.name}</strong>
              {form.type === "directory" ? " and everything in it" : ""}? This cannot be undone.
            </span>
            <button type="submit" class="danger" data-testid="files-delete-confirm">Yes, delete</button>
          </>
        )
        : (
          <>
            <label>
              {form.kind === "rename"
                ? `Rename ${form.name} to`
                : form.kind === "new-file"
                ? "New file name"
                : "New folder name"}
              <input
                required
                autoFocus
                spellcheck={false}
                value={form.value}
                onInput={(e) => onChange({ ...form, value: e.currentTarget.value })}
                data-testid="files-form-name"
              />
            </label>
            {form.kind === "rename" && existing.has(form.value.trim()) && form.value.trim() !== form.name && (
              <span role="alert">A file with that name exists; pick another name.</span>
            )}
            <button type="submit" class="primary" disabled={!form.value.trim()} data-testid="files-form-submit">
              {form.kind === "rename" ? "Rename" : "Create"}
            </button>
          </>
        )}
      <button type="button" onClick={onCancel} data-testid="files-form-cancel">Cancel</button>
    </form>
  );
}
