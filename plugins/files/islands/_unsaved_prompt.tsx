import { useEffect, useRef } from "preact/hooks";

export interface UnsavedPromptProps {
  path: string;
  onDiscard: () => void;
  onKeep: () => void;
}

/**
 * Asks before unsaved edits are dropped. It takes the focus (on "Keep editing", so Enter alone loses
 * nothing) and Escape keeps editing.
 */
export function UnsavedPrompt({ path, onDiscard, onKeep }: UnsavedPromptProps) {
  const keep = useRef<HTMLButtonElement>(null);
  useEffect(() => keep.current?.focus(), []);
  return (
    <div
      class="card confirm row wrap"
      role="alertdialog"
      aria-label="Unsaved changes"
      onKeyDown={(e) => {
        if (e.key === "Escape") (e.preventDefault(), onKeep());
      }}
      data-testid="files-unsaved"
    >
      <span>{path} has unsaved changes. Discard them?</span>
      <button type="button" class="danger" onClick={onDiscard} data-testid="files-discard">
        Discard changes
      </button>
      <button ref={keep} type="button" onClick={onKeep} data-testid="files-keep-editing">
        Keep editing
      </button>
    </div>
  );
}
