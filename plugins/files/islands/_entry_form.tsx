import { useEffect, useRef } from "preact/hooks";
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

/**
 * The inline form for a new file or folder, a rename, or the confirmation before a delete. It takes
 * the focus when it opens (the name field, or Cancel before a delete), Escape cancels it, and the
 * focus goes back to what opened it when it closes.
 */
export function EntryForm({ form, existing, onChange, onSubmit, onCancel }: EntryFormProps) {
  const self = useRef<HTMLFormElement>(null);
  const first = useRef<HTMLInputElement & HTMLButtonElement>(null);
  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    first.current?.focus();
    return () => {
      // Not when the user has moved on to something else meanwhile (e.g. another row's button).
      const at = document.activeElement;
      const inside = !at || at === document.body || self.current?.contains(at);
      if (inside && opener?.isConnected && opener !== document.body) opener.focus();
    };
  }, [form.kind, "name" in form ? form.name : ""]);
  return (
    <form
      ref={self}
      class="card confirm row wrap"
      onSubmit={onSubmit}
      onKeyDown={(e) => {
        if (e.key === "Escape") (e.preventDefault(), onCancel());
      }}
      data-testid="files-form"
    >
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
                ref={first}
                required
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
      <button
        ref={form.kind === "delete" ? first : undefined}
        type="button"
        onClick={onCancel}
        data-testid="files-form-cancel"
      >
        Cancel
      </button>
    </form>
  );
}
