import { useState } from "preact/hooks";
import { api, errorText, useHydrated } from "./_api.ts";

export interface SettingsValues {
  audit_retention_days: number;
}

/** Run-time settings (admin); changes apply without a restart. */
export default function SettingsForm({ settings }: { settings: SettingsValues }) {
  const ready = useHydrated();
  const [saved, setSaved] = useState<SettingsValues>(settings);
  const [days, setDays] = useState(String(settings.audit_retention_days));
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: Event) {
    e.preventDefault();
    if (busy) return;
    setMessage(null);
    const value = Number(days);
    if (!Number.isInteger(value) || value < 1 || value > 36500) {
      setMessage({ ok: false, text: "Audit retention must be a whole number of days between 1 and 36500." });
      return;
    }
    setBusy(true);
    try {
      const values = await api<SettingsValues>("PUT", "/api/v1/settings", { audit_retention_days: value });
      setSaved(values);
      setDays(String(values.audit_retention_days));
      setMessage({ ok: true, text: `Settings saved. Audit retention: ${dayCount(values.audit_retention_days)}.` });
    } catch (err) {
      setMessage({ ok: false, text: errorText(err) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="stack narrow" method="post" noValidate onSubmit={submit}>
      <label>
        Audit log retention (days)
        <input
          type="number"
          name="audit_retention_days"
          inputMode="numeric"
          min={1}
          max={36500}
          step={1}
          required
          value={days}
          onInput={(e) => setDays(e.currentTarget.value)}
          aria-describedby="retention-hint"
          data-testid="retention-days"
        />
        <span id="retention-hint" class="hint">
          Audit entries older than this are deleted automatically. Currently saved:{" "}
          <strong data-testid="saved-retention-days">{dayCount(saved.audit_retention_days)}</strong>.
        </span>
      </label>
      {message && <p role={message.ok ? "status" : "alert"}>{message.text}</p>}
      <div class="row">
        <button type="submit" class="primary" disabled={!ready || busy} data-testid="save-settings">
          {busy ? "Saving…" : "Save settings"}
        </button>
      </div>
    </form>
  );
}

function dayCount(n: number): string {
  return n === 1 ? "1 day" : `${n} days`;
}
