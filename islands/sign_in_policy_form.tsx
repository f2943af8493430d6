import { useState } from "preact/hooks";
import { api, errorText, useHydrated } from "./_api.ts";

export interface SignInPolicy {
  password_sign_in: "allowed" | "until_passkey" | "disabled";
  admin_passkey_required: boolean;
}

const PASSWORD_CHOICES: { value: SignInPolicy["password_sign_in"]; label: string }[] = [
  { value: "allowed", label: "Allowed for everyone" },
  { value: "until_passkey", label: "Only for accounts without a passkey" },
  { value: "disabled", label: "Never: passkeys only" },
];

/** How people may sign in (admin). The server refuses a policy that would lock out accounts without a passkey. */
export default function SignInPolicyForm({ policy }: { policy: SignInPolicy }) {
  const ready = useHydrated();
  const [password, setPassword] = useState(policy.password_sign_in);
  const [adminPasskey, setAdminPasskey] = useState(policy.admin_passkey_required);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: Event) {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    setMessage(null);
    try {
      const saved = await api<SignInPolicy>("PUT", "/api/v1/settings", {
        password_sign_in: password,
        admin_passkey_required: adminPasskey,
      });
      setPassword(saved.password_sign_in);
      setAdminPasskey(saved.admin_passkey_required);
      setMessage({ ok: true, text: "Sign-in policy saved." });
    } catch (err) {
      setMessage({ ok: false, text: errorText(err) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="stack narrow" method="post" noValidate onSubmit={submit} data-testid="sign-in-policy">
      <label>
        Password sign-in
        <select
          name="password_sign_in"
          value={password}
          onChange={(e) => setPassword(e.currentTarget.value as SignInPolicy["password_sign_in"])}
          data-testid="policy-password"
        >
          {PASSWORD_CHOICES.map((c) => <option key={c.value} value={c.value}>{c.label}</option>)}
        </select>
        <span class="hint">
          Passkeys always work. Someone who lost every passkey is let back in by the operator with{" "}
          <code>claworc admin recover --username NAME</code>.
        </span>
      </label>
      <label class="check">
        <input
          type="checkbox"
          name="admin_passkey_required"
          checked={adminPasskey}
          onChange={(e) => setAdminPasskey(e.currentTarget.checked)}
          data-testid="policy-admin-passkey"
        />
        Admins must sign in with a passkey
      </label>
      {message && (
        <p role={message.ok ? "status" : "alert"} class={message.ok ? "ok" : "error"} data-testid="policy-message">
          {message.text}
        </p>
      )}
      <button type="submit" class="primary" disabled={!ready || busy} data-testid="policy-save">
        Save sign-in policy
      </button>
    </form>
  );
}
