import { useState } from "preact/hooks";
import { api, errorText, useHydrated } from "./_api.ts";

export interface SettingsValues {
  audit_retention_days: number;
  ssh_key_rotation_days: number;
  terminal_recording: boolean;
  terminal_recording_retention_days: number;
  config_editor_access: "admin" | "assigned";
}

/** Run-time settings (admin); changes apply without a restart. */
export default function SettingsForm({ settings }: { settings: SettingsValues }) {
  const ready = useHydrated();
  const [saved, setSaved] = useState<SettingsValues>(settings);
  const [days, setDays] = useState(String(settings.audit_retention_days));
  const [rotation, setRotation] = useState(String(settings.ssh_key_rotation_days));
  const [recording, setRecording] = useState(settings.terminal_recording);
  const [recordingDays, setRecordingDays] = useState(String(settings.terminal_recording_retention_days));
  const [configAccess, setConfigAccess] = useState(settings.config_editor_access);
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
    const rotationDays = Number(rotation);
    if (!Number.isInteger(rotationDays) || rotationDays < 0 || rotationDays > 3650) {
      setMessage({ ok: false, text: "SSH key rotation must be a whole number of days between 0 (off) and 3650." });
      return;
    }
    const keepDays = Number(recordingDays);
    if (!Number.isInteger(keepDays) || keepDays < 1 || keepDays > 3650) {
      setMessage({ ok: false, text: "Recording retention must be a whole number of days between 1 and 3650." });
      return;
    }
    setBusy(true);
    try {
      const values = await api<SettingsValues>("PUT", "/api/v1/settings", {
        audit_retention_days: value,
        ssh_key_rotation_days: rotationDays,
        terminal_recording: recording,
        terminal_recording_retention_days: keepDays,
        config_editor_access: configAccess,
      });
      setSaved(values);
      setDays(String(values.audit_retention_days));
      setRotation(String(values.ssh_key_rotation_days));
      setRecording(values.terminal_recording);
      setRecordingDays(String(values.terminal_recording_retention_days));
      setConfigAccess(values.config_editor_access);
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
      <label>
        Rotate the SSH key every (days)
        <input
          type="number"
          name="ssh_key_rotation_days"
          inputMode="numeric"
          min={0}
          max={3650}
          step={1}
          required
          value={rotation}
          onInput={(e) => setRotation(e.currentTarget.value)}
          aria-describedby="rotation-hint"
          data-testid="rotation-days"
        />
        <span id="rotation-hint" class="hint">
          0 turns automatic rotation off. Currently saved:{" "}
          <strong data-testid="saved-rotation-days">
            {saved.ssh_key_rotation_days ? dayCount(saved.ssh_key_rotation_days) : "off"}
          </strong>.
        </span>
      </label>
      <div>
        <label class="check">
          <input
            type="checkbox"
            name="terminal_recording"
            checked={recording}
            onChange={(e) => setRecording(e.currentTarget.checked)}
            aria-describedby="recording-hint"
            data-testid="setting-terminal-recording"
          />
          Record terminal sessions
        </label>
        <span id="recording-hint" class="hint">
          Terminals opened from now on save their output (not what is typed) as asciicast files, listed in each
          instance's Terminal tab. Currently saved:{" "}
          <strong data-testid="saved-terminal-recording">{saved.terminal_recording ? "on" : "off"}</strong>.
        </span>
      </div>
      <label>
        Keep terminal recordings (days)
        <input
          type="number"
          name="terminal_recording_retention_days"
          inputMode="numeric"
          min={1}
          max={3650}
          step={1}
          required
          value={recordingDays}
          onInput={(e) => setRecordingDays(e.currentTarget.value)}
          aria-describedby="recording-retention-hint"
          data-testid="recording-retention-days"
        />
        <span id="recording-retention-hint" class="hint">
          Recordings not written to for longer are deleted automatically. Currently saved:{" "}
          <strong data-testid="saved-recording-retention-days">
            {dayCount(saved.terminal_recording_retention_days)}
          </strong>.
        </span>
      </label>
      <label>
        Config editor
        <select
          name="config_editor_access"
          value={configAccess}
          onChange={(e) => setConfigAccess(e.currentTarget.value === "assigned" ? "assigned" : "admin")}
          aria-describedby="config-access-hint"
          data-testid="setting-config-editor-access"
        >
          <option value="admin">Admins only</option>
          <option value="assigned">Admins and users assigned to the instance</option>
        </select>
        <span id="config-access-hint" class="hint">
          Who may read and change an instance's OpenClaw configuration (openclaw.json, which can hold keys) in its
          Config tab. Currently saved:{" "}
          <strong data-testid="saved-config-editor-access">
            {saved.config_editor_access === "assigned" ? "admins and assigned users" : "admins only"}
          </strong>.
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
