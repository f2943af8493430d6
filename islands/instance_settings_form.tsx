import { useState } from "preact/hooks";
import { api, errorText, useHydrated } from "./_api.ts";

export interface InstanceSettings {
  display_name: string;
  cpu_limit: string;
  memory_limit: string;
  vnc_resolution: string;
}

const FIELDS: { key: keyof InstanceSettings; label: string; size: number }[] = [
  { key: "display_name", label: "Name", size: 24 },
  { key: "cpu_limit", label: "CPU", size: 6 },
  { key: "memory_limit", label: "Memory", size: 6 },
  { key: "vnc_resolution", label: "Screen", size: 9 },
];

/**
 * Admin form that renames and re-sizes one instance. CPU and memory apply to the running container at
 * once where the engine can; the screen size (and anything the engine refused live) at the next restart.
 */
export default function InstanceSettingsForm({ id, current }: { id: number; current: InstanceSettings }) {
  const ready = useHydrated();
  const [open, setOpen] = useState(false);
  const [saved, setSaved] = useState(current);
  const [values, setValues] = useState(current);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);

  async function submit(e: Event) {
    e.preventDefault();
    const changed = Object.fromEntries(
      FIELDS.map(({ key }) => [key, values[key].trim()]).filter(([key, v]) =>
        v !== saved[key as keyof InstanceSettings]
      ),
    );
    if (!Object.keys(changed).length) return setMessage({ ok: true, text: "Nothing to change." });
    setBusy(true);
    setMessage(null);
    try {
      const r = await api<InstanceSettings & { restart_required: boolean }>("PUT", `/api/v1/instances/${id}`, changed);
      const next = {
        display_name: r.display_name,
        cpu_limit: r.cpu_limit,
        memory_limit: r.memory_limit,
        vnc_resolution: r.vnc_resolution,
      };
      setSaved(next);
      setValues(next);
      setMessage({
        ok: true,
        text: r.restart_required ? "Saved; restart the instance to apply everything." : "Saved and applied.",
      });
    } catch (err) {
      setMessage({ ok: false, text: errorText(err) });
    } finally {
      setBusy(false);
    }
  }

  if (!open) {
    return (
      <button type="button" disabled={!ready} onClick={() => setOpen(true)} data-testid="instance-edit">
        Edit name and resources
      </button>
    );
  }
  return (
    <form class="stack" method="post" noValidate onSubmit={submit} data-testid="instance-settings">
      <div class="row wrap">
        {FIELDS.map(({ key, label, size }) => (
          <label key={key}>
            {label}
            <input
              name={key}
              size={size}
              value={values[key]}
              onInput={(e) => setValues({ ...values, [key]: e.currentTarget.value })}
              data-testid={`edit-${key}`}
            />
          </label>
        ))}
      </div>
      {message && <p role={message.ok ? "status" : "alert"} data-testid="edit-message">{message.text}</p>}
      <div class="row">
        <button type="submit" class="primary" disabled={!ready || busy} data-testid="edit-save">
          {busy ? "Saving…" : "Save"}
        </button>
        <button type="button" onClick={() => setOpen(false)}>Close</button>
      </div>
    </form>
  );
}
