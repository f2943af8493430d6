import { useEffect, useRef, useState } from "preact/hooks";
import { useHydrated } from "./_api.ts";

export interface SshKeyCardProps {
  /** `SHA256:...` of the control plane's public key. */
  fingerprint: string;
  /** The OpenSSH public key line (`ssh-ed25519 AAAA... comment`). */
  publicKey: string;
}

/** How long "Copied" stays before the button reads "Copy" again. */
const COPIED_MS = 2_500;

/** Copies `text`: the async clipboard API where allowed, else the selection of `field` (plain-HTTP origins). */
async function copyText(text: string, field: HTMLTextAreaElement | null): Promise<boolean> {
  try {
    if (navigator.clipboard?.writeText) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Denied or unavailable: fall back to copying the selection below.
  }
  if (!field) return false;
  field.focus();
  field.select();
  try {
    return document.execCommand("copy");
  } catch {
    return false;
  }
}

/** The control plane's SSH key: fingerprint and public key, with a Copy button. */
export default function SshKeyCard({ fingerprint, publicKey }: SshKeyCardProps) {
  const ready = useHydrated();
  const [copied, setCopied] = useState<"" | "ok" | "failed">("");
  const field = useRef<HTMLTextAreaElement>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  useEffect(() => () => clearTimeout(timer.current), []);

  async function copy() {
    clearTimeout(timer.current);
    const ok = await copyText(publicKey, field.current);
    setCopied(ok ? "ok" : "failed");
    if (ok) timer.current = setTimeout(() => setCopied(""), COPIED_MS);
  }

  return (
    <div class="stack ssh-key">
      <p class="muted">
        Claworc connects to instances over SSH with this key. Its public half is below.
      </p>
      <div class="stack tight">
        <span class="field-label">Fingerprint</span>
        <code class="fingerprint" data-testid="ssh-fingerprint">{fingerprint}</code>
      </div>
      <label>
        Public key
        <textarea
          ref={field}
          class="mono public-key"
          readOnly
          rows={3}
          spellcheck={false}
          autocomplete="off"
          value={publicKey}
          onFocus={(e) => e.currentTarget.select()}
          data-testid="ssh-public-key"
        />
      </label>
      <div class="row wrap">
        <button type="button" disabled={!ready} onClick={copy} data-testid="copy-public-key">
          Copy
        </button>
        <span aria-live="polite" data-testid="copy-status">
          {copied === "ok" && <span class="copied">Copied to the clipboard.</span>}
          {copied === "failed" && (
            <span class="copy-failed">Could not copy; select the key above and copy it by hand.</span>
          )}
        </span>
      </div>
    </div>
  );
}
