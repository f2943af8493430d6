import { useState } from "preact/hooks";
import { api, errorText, useHydrated } from "./_api.ts";
import type { InstanceDefaults } from "./create_instance_form.tsx";

const FIELDS: { key: keyof InstanceDefaults; label: string; hint: string }[] = [
  { key: "default_image", label: "Image", hint: "e.g. localhost/claworc-agent:dev" },
  { key: "default_cpu_limit", label: "CPU", hint: "e.g. 500m or 2" },
  { key: "default_memory_limit", label: "Memory", hint: "e.g. 512Mi or 4Gi (at least 256Mi)" },
  { key: "default_vnc_resolution", label: "Screen", hint: "e.g. 1280x800" },
];

/** What new instances get unless the admin creating one says otherwise (admin; applies at once). */
export default function InstanceDefaultsForm({ defaults }: { defaults: InstanceDefaults }) {
  const ready = useHydrated();
  const [values, setValues] = useState(defaults);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setMessage(null);
    try {
      const body = Object.fromEntries(FIELDS.map(({ key }) => [key, values[key].trim()]));
      const saved = await api<InstanceDefaults>("PUT", "/api/v1/settings", body);
      setValues(Object.fromEntries(FIELDS.map(({ key }) => [key, saved[key]])) as unknown as InstanceDefaults);
      setMessage({ ok: true, text: "Defaults saved; new instances use them." });
    } catch (err) {
      setMessage({ ok: false, text: errorText(err) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="stack narrow" method="post" noValidate onSubmit={submit}>
      {FIELDS.map(({ key, label, hint }) => (
        <label key={key}>
          {label}
          <input
            name={key}
            value={values[key]}
            onInput={(e) => setValues({ ...values, [key]: e.currentTarget.value })}
            data-testid={key}
          />
          <span class="hint">{hint}</span>
        </label>
      ))}
      {message && <p role={message.ok ? "status" : "alert"} data-testid="defaults-message">{message.text}</p>}
      <div class="row">
        <button type="submit" class="primary" disabled={!ready || busy} data-testid="save-defaults">
          {busy ? "Saving…" : "Save defaults"}
        </button>
      </div>
    </form>
  );
}
