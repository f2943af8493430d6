import { useState } from "preact/hooks";
import { api, errorText, useHydrated } from "./_api.ts";
import { type Passkey, passkeysSupported, registerPasskey } from "./_passkeys.ts";
import { utcTime } from "./_time.ts";

/** The signed-in user's passkeys: add (named), rename, delete. */
export default function PasskeysCard({ passkeys: initial }: { passkeys: Passkey[] }) {
  const ready = useHydrated();
  const [passkeys, setPasskeys] = useState(initial);
  const [name, setName] = useState("");
  const [editing, setEditing] = useState<{ id: string; name: string } | null>(null);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  async function run(action: () => Promise<string>) {
    if (busy) return;
    setBusy(true);
    setMessage(null);
    try {
      const text = await action();
      setPasskeys(await api<Passkey[]>("GET", "/api/v1/auth/webauthn/credentials"));
      setMessage({ ok: true, text });
    } catch (err) {
      setMessage({ ok: false, text: errorText(err) });
    } finally {
      setBusy(false);
    }
  }

  const add = (e: Event) => {
    e.preventDefault();
    run(async () => {
      const made = await registerPasskey(name);
      setName("");
      return `Passkey "${made.name}" added.`;
    });
  };
  const rename = (e: Event) => {
    e.preventDefault();
    const target = editing!;
    run(async () => {
      await api("PATCH", `/api/v1/auth/webauthn/credentials/${target.id}`, { name: target.name });
      setEditing(null);
      return `Renamed to "${target.name.trim()}".`;
    });
  };
  const remove = (p: Passkey) => {
    if (!confirm(`Delete the passkey "${p.name}"? It will no longer sign you in.`)) return;
    run(async () => {
      await api("DELETE", `/api/v1/auth/webauthn/credentials/${p.id}`);
      return `Passkey "${p.name}" deleted.`;
    });
  };

  return (
    <div class="stack" data-testid="passkeys">
      {passkeys.length === 0
        ? <p class="muted" data-testid="passkeys-empty">No passkeys yet. Add one to sign in without a password.</p>
        : (
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Added</th>
                <th>Last used</th>
                <th>Synced</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {passkeys.map((p) => (
                <tr key={p.id} data-testid="passkey-row">
                  <td>
                    {editing?.id === p.id
                      ? (
                        <form class="inline" onSubmit={rename}>
                          <input
                            aria-label="Passkey name"
                            maxLength={64}
                            required
                            value={editing.name}
                            onInput={(e) => setEditing({ id: p.id, name: e.currentTarget.value })}
                            data-testid="passkey-rename-input"
                          />
                          <button type="submit" disabled={busy} data-testid="passkey-rename-save">Save</button>
                          <button type="button" onClick={() => setEditing(null)}>Cancel</button>
                        </form>
                      )
                      : <span data-testid="passkey-name">{p.name}</span>}
                  </td>
                  <td>{utcTime(p.created_at)}</td>
                  <td>{p.last_used_at ? utcTime(p.last_used_at) : "never"}</td>
                  <td>{p.backed_up ? "yes" : "no"}</td>
                  <td class="actions">
                    <button
                      type="button"
                      disabled={!ready || busy}
                      onClick={() => setEditing({ id: p.id, name: p.name })}
                      data-testid="passkey-rename"
                    >
                      Rename
                    </button>
                    <button
                      type="button"
                      class="danger"
                      disabled={!ready || busy}
                      onClick={() => remove(p)}
                      data-testid="passkey-delete"
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      <form class="inline" onSubmit={add}>
        <label>
          New passkey name
          <input
            name="passkey_name"
            maxLength={64}
            placeholder="e.g. Work laptop"
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
            data-testid="passkey-name-input"
          />
        </label>
        <button
          type="submit"
          class="primary"
          disabled={!ready || busy || !passkeysSupported()}
          data-testid="passkey-add"
        >
          {busy ? "Waiting for the passkey…" : "Add a passkey"}
        </button>
      </form>
      {ready && !passkeysSupported() && <p class="muted">This browser cannot create passkeys.</p>}
      {message && <p role={message.ok ? "status" : "alert"} class={message.ok ? "ok" : "error"}>{message.text}</p>}
    </div>
  );
}
