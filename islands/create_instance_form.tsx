import { useState } from "preact/hooks";
import { api, errorText, useHydrated } from "./_api.ts";
import { type LiveOperation, useLiveEvents } from "./_live.ts";
import { OperationSteps } from "./_operation_steps.tsx";

export interface InstanceDefaults {
  default_image: string;
  default_cpu_limit: string;
  default_memory_limit: string;
  default_vnc_resolution: string;
}

interface Created {
  id: number;
  name: string;
  operation: LiveOperation | null;
}

/**
 * Admin dialog that creates an instance: a name, and resources prefilled from the settings' defaults.
 * After submitting it shows the creation's steps live until the instance is ready (or why it failed).
 */
export default function CreateInstanceForm({ defaults }: { defaults: InstanceDefaults }) {
  const ready = useHydrated();
  const [open, setOpen] = useState(false);
  const [fields, setFields] = useState({
    display_name: "",
    cpu_limit: defaults.default_cpu_limit,
    memory_limit: defaults.default_memory_limit,
    vnc_resolution: defaults.default_vnc_resolution,
    image: defaults.default_image,
  });
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<Created | null>(null);

  useLiveEvents({
    operation: (op) => setCreated((c) => (c && op.instance_id === c.id ? { ...c, operation: op } : c)),
  });

  const set = (key: keyof typeof fields) => (e: Event) =>
    setFields({ ...fields, [key]: (e.currentTarget as HTMLInputElement).value });

  async function submit(e: Event) {
    e.preventDefault();
    if (!fields.display_name.trim()) return setError("Give the instance a name.");
    setBusy(true);
    setError("");
    try {
      const body = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v.trim()]));
      setCreated(await api<Created>("POST", "/api/v1/instances", body));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  function reset() {
    setCreated(null);
    setOpen(false);
    setFields({ ...fields, display_name: "" });
  }

  if (!open) {
    return (
      <button
        type="button"
        class="primary"
        disabled={!ready}
        onClick={() => setOpen(true)}
        data-testid="new-instance"
      >
        New instance
      </button>
    );
  }

  if (created) {
    const op = created.operation;
    return (
      <div class="stack" data-testid="create-progress">
        <h2>
          <a href={`/instances/${created.id}`} data-testid="created-link">{created.name}</a>
        </h2>
        {op ? <OperationSteps op={op} /> : <p class="muted">Starting…</p>}
        {op && op.state !== "running" && (
          <div class="row">
            {op.state === "succeeded" && <a class="button primary" href={`/instances/${created.id}`}>Open instance</a>}
            <button type="button" onClick={reset} data-testid="create-done">Close</button>
          </div>
        )}
      </div>
    );
  }

  return (
    <form class="stack narrow" method="post" noValidate onSubmit={submit} data-testid="create-form">
      <h2>New instance</h2>
      <label>
        Name
        <input
          name="display_name"
          maxLength={100}
          required
          value={fields.display_name}
          placeholder="Research bot"
          onInput={set("display_name")}
          data-testid="new-instance-name"
        />
      </label>
      <div class="row wrap">
        <label>
          CPU
          <input name="cpu_limit" value={fields.cpu_limit} onInput={set("cpu_limit")} size={6} data-testid="new-cpu" />
        </label>
        <label>
          Memory
          <input
            name="memory_limit"
            value={fields.memory_limit}
            onInput={set("memory_limit")}
            size={6}
            data-testid="new-memory"
          />
        </label>
        <label>
          Screen
          <input
            name="vnc_resolution"
            value={fields.vnc_resolution}
            onInput={set("vnc_resolution")}
            size={9}
            data-testid="new-resolution"
          />
        </label>
      </div>
      <label>
        Image
        <input name="image" value={fields.image} onInput={set("image")} data-testid="new-image" />
        <span class="hint">CPU as 500m or 2, memory as 512Mi or 4Gi. Defaults come from Settings.</span>
      </label>
      {error && <p role="alert" data-testid="create-error">{error}</p>}
      <div class="row">
        <button type="submit" class="primary" disabled={!ready || busy} data-testid="create-instance">
          {busy ? "Creating…" : "Create instance"}
        </button>
        <button type="button" onClick={() => setOpen(false)}>Cancel</button>
      </div>
    </form>
  );
}
