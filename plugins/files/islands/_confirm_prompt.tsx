import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";

export interface ConfirmPromptProps {
  /** The dialog's accessible name. */
  label: string;
  children: ComponentChildren;
  /** The destructive choice, and the one that keeps things as they are. */
  confirm: { text: string; testId: string; onClick: () => void };
  cancel: { text: string; testId: string; onClick: () => void };
  testId: string;
}

/**
 * Asks before something is lost (unsaved edits, files an upload would replace). It takes the focus on
 * the safe choice, so Enter alone loses nothing, and Escape picks that choice too.
 */
export function ConfirmPrompt({ label, children, confirm, cancel, testId }: ConfirmPromptProps) {
  const safe = useRef<HTMLButtonElement>(null);
  useEffect(() => safe.current?.focus(), []);
  return (
    <div
      class="card confirm row wrap"
      role="alertdialog"
      aria-label={label}
      onKeyDown={(e) => {
        if (e.key === "Escape") (e.preventDefault(), cancel.onClick());
      }}
      data-testid={testId}
    >
      <span>{children}</span>
      <button type="button" class="danger" onClick={confirm.onClick} data-testid={confirm.testId}>
        {confirm.text}
      </button>
      <button ref={safe} type="button" onClick={cancel.onClick} data-testid={cancel.testId}>
        {cancel.text}
      </button>
    </div>
  );
}
