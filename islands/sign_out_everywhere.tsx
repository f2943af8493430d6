import { useState } from "preact/hooks";
import { api, errorText, useHydrated } from "./_api.ts";

/** Ends every session of the signed-in user (a lost laptop, a shared computer) and goes to sign-in. */
export default function SignOutEverywhere() {
  const ready = useHydrated();
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  async function run() {
    if (busy || !confirm("Sign out on every device, this one included?")) return;
    setBusy(true);
    setError("");
    try {
      await api("POST", "/api/v1/auth/logout-everywhere");
      location.href = "/login";
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  }

  return (
    <div class="stack">
      <p class="muted">Ends all your sessions, on every browser and device, including this one.</p>
      <div>
        <button type="button" class="danger" disabled={!ready || busy} onClick={run} data-testid="sign-out-everywhere">
          Sign out everywhere
        </button>
      </div>
      {error && <p role="alert">{error}</p>}
    </div>
  );
}
