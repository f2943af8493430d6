import { useState } from "preact/hooks";
import { api, errorText, useHydrated } from "./_api.ts";

/** Admin form that creates an instance with the defaults; the new instance's page opens at once. */
export default function CreateInstanceForm({ defaultImage }: { defaultImage: string }) {
  const ready = useHydrated();
  const [name, setName] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  async function submit(e: Event) {
    e.preventDefault();
    if (!name.trim()) return setError("Give the instance a name.");
    setBusy(true);
    setError("");
    try {
      const created = await api<{ id: number }>("POST", "/api/v1/instances", { display_name: name.trim() });
      location.href = `/instances/${created.id}`;
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  }

  return (
    <form class="row wrap" method="post" noValidate onSubmit={submit}>
      <label>
        New instance
        <input
          name="display_name"
          maxLength={100}
          value={name}
          placeholder="Research bot"
          onInput={(e) => setName(e.currentTarget.value)}
          data-testid="new-instance-name"
        />
      </label>
      <button type="submit" class="primary" disabled={!ready || busy} data-testid="create-instance">
        {busy ? "Creating…" : "Create instance"}
      </button>
      <span class="hint">Image: {defaultImage}</span>
      {error && <p role="alert">{error}</p>}
    </form>
  );
}
