import { useState } from "preact/hooks";
import { api, errorText, useHydrated } from "./_api.ts";

/** Changes the signed-in user's own password; the server ends their other sessions. */
export default function ChangePasswordForm() {
  const ready = useHydrated();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [confirm, setConfirm] = useState("");
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: Event) {
    e.preventDefault();
    if (busy) return;
    setMessage(null);
    if (next !== confirm) {
      setMessage({ ok: false, text: "The new password and its confirmation do not match." });
      return;
    }
    setBusy(true);
    try {
      await api("POST", "/api/v1/auth/change-password", { current_password: current, new_password: next });
      setCurrent("");
      setNext("");
      setConfirm("");
      setMessage({ ok: true, text: "Password changed; your other sessions were signed out." });
    } catch (err) {
      setMessage({ ok: false, text: errorText(err) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="stack narrow" method="post" noValidate onSubmit={submit}>
      <label>
        Current password
        <input
          type="password"
          name="current_password"
          autocomplete="current-password"
          required
          value={current}
          onInput={(e) => setCurrent(e.currentTarget.value)}
          data-testid="current-password"
        />
      </label>
      <label>
        New password
        <input
          type="password"
          name="new_password"
          autocomplete="new-password"
          required
          value={next}
          onInput={(e) => setNext(e.currentTarget.value)}
          aria-describedby="new-password-hint"
          data-testid="new-password"
        />
        <span id="new-password-hint" class="hint">At least 10 characters.</span>
      </label>
      <label>
        Confirm new password
        <input
          type="password"
          name="confirm_password"
          autocomplete="new-password"
          required
          value={confirm}
          onInput={(e) => setConfirm(e.currentTarget.value)}
          data-testid="confirm-password"
        />
      </label>
      {message && <p role={message.ok ? "status" : "alert"}>{message.text}</p>}
      <div class="row">
        <button type="submit" class="primary" disabled={!ready || busy} data-testid="change-password-submit">
          {busy ? "Changing…" : "Change password"}
        </button>
      </div>
    </form>
  );
}
