import { useUnsavedGuard } from "../../../islands/_unsaved_guard.ts";

export interface EditorProps {
  path: string;
  text: string;
  saved: string;
  busy: boolean;
  onInput: (text: string) => void;
  onSave: () => void;
  onClose: () => void;
}

/**
 * The inline text editor. Unsaved changes are guarded here against leaving the page (the browser's
 * own prompt); the file manager guards closing and navigating.
 */
export function Editor({ path, text, saved, busy, onInput, onSave, onClose }: EditorProps) {
  const dirty = text !== saved;
  useUnsavedGuard(dirty);
  return (
    <section class="card stack" aria-label={`Editing ${path}`} data-testid="file-editor">
      <div class="row between wrap">
        <h2 class="mono row">
          {path}
          {dirty && <span class="muted" data-testid="editor-dirty">(unsaved)</span>}
        </h2>
        <div class="row">
          <button type="button" class="primary" disabled={busy || !dirty} onClick={onSave} data-testid="editor-save">
            {busy ? "Saving…" : "Save"}
          </button>
          <button type="button" disabled={busy} onClick={onClose} data-testid="editor-close">Close</button>
        </div>
      </div>
      <textarea
        class="mono"
        rows={24}
        spellcheck={false}
        value={text}
        onInput={(e) => onInput(e.currentTarget.value)}
        onKeyDown={(e) => {
          if ((e.ctrlKey || e.metaKey) && e.key === "s") {
            e.preventDefault();
            if (dirty && !busy) onSave();
          }
        }}
        aria-label="File content"
        data-testid="editor-text"
      />
    </section>
  );
}
