import { useState } from "preact/hooks";
import { api, errorText, useHydrated } from "./_api.ts";
import { safeNext } from "./_safe_next.ts";
import { passkeysSupported, signInWithPasskey } from "./_passkeys.ts";

/**
 * Sign-in form: a password, or a passkey (the account's when a username is typed, else any passkey
 * of this site). On success goes to `next` (a same-site path) or the dashboard.
 */
export default function LoginForm({ next }: { next: string }) {
  const ready = useHydrated();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  async function submit(e: Event) {
    e.preventDefault();
    if (busy) return;
    setError("");
    setBusy(true);
    try {
      await api("POST", "/api/v1/auth/login", { username: username.trim(), password });
      location.href = safeNext(next);
    } catch (err) {
      setError(errorText(err));
      setPassword("");
      setBusy(false);
    }
  }

  async function passkey() {
    if (busy) return;
    setError("");
    setBusy(true);
    try {
      await signInWithPasskey(username.trim() || undefined);
      location.href = safeNext(next);
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
          data-testid="login-username"
        />
      </label>
      <label>
        Password
        <input
          type="password"
          name="password"
          autocomplete="current-password"
          required
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
          data-testid="login-password"
        />
      </label>
      {error && <p role="alert">{error}</p>}
      <button type="submit" class="primary" disabled={!ready || busy} data-testid="login-submit">
        {busy ? "Signing in…" : "Sign in"}
      </button>
      {ready && passkeysSupported() && (
        <button type="button" onClick={passkey} disabled={busy} data-testid="login-passkey">
          Sign in with a passkey
        </button>
      )}
    </form>
  );
}
