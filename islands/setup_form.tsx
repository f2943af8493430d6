import { useState } from "preact/hooks";
import { api, errorText, useHydrated } from "./_api.ts";

/** First-run form: creates the first administrator, who is then signed in. */
export default function SetupForm() {
  const ready = useHydrated();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  async function submit(e: Event) {
    e.preventDefault();
    if (busy) return;
    setError("");
    if (password !== confirm) {
      setError("The two passwords do not match.");
      return;
    }
    setBusy(true);
    try {
      await api("POST", "/api/v1/auth/setup", { username: username.trim(), password });
      location.href = "/";
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  }

  return (
    <form class="stack" method="post" noValidate onSubmit={submit}>
      <label>
        Username
        <input
          name="username"
          autocomplete="username"
          autocapitalize="none"
          spellcheck={false}
          required
          maxLength={64}
          value={username}
          onInput={(e) => setUsername(e.currentTarget.value)}
          data-testid="setup-username"
        />
      </label>
      <label>
        Password
        <input
          type="password"
          name="password"
          autocomplete="new-password"
          required
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
          aria-describedby="setup-password-hint"
          data-testid="setup-password"
        />
        <span id="setup-password-hint" class="hint">At least 10 characters.</span>
      </label>
      <label>
        Confirm password
        <input
          type="password"
          name="confirm"
          autocomplete="new-password"
          required
          value={confirm}
          onInput={(e) => setConfirm(e.currentTarget.value)}
          data-testid="setup-confirm"
        />
      </label>
      {error && <p role="alert">{error}</p>}
      <button type="submit" class="primary" disabled={!ready || busy} data-testid="setup-submit">
        {busy ? "Creating account…" : "Create administrator"}
      </button>
    </form>
  );
}
