import { z } from "zod";
import type { Database } from "../db/database.ts";
import { cpuQuantity, imageRef, memoryQuantity, vncResolution } from "../instances/quantities.ts";

/** The settings admins may change; anything else is refused (the reference stored any key, P2). */
export const settingsSchema = z.object({
  audit_retention_days: z.number().int().min(1).max(36_500),
  /** Rotate the global SSH key automatically after this many days; 0 turns automatic rotation off. */
  ssh_key_rotation_days: z.number().int().min(0).max(3_650),
  /** What new instances get unless the admin asks otherwise. */
  default_image: imageRef,
  default_cpu_limit: cpuQuantity,
  default_memory_limit: memoryQuantity,
  default_vnc_resolution: vncResolution,
  /** Record every terminal session as an asciicast v2 file (output only, never input). */
  terminal_recording: z.boolean(),
  /** Terminal recordings untouched for longer than this are deleted. */
  terminal_recording_retention_days: z.number().int().min(1).max(3_650),
  /** Who may use an instance's config editor: admins only, or also the users assigned to the instance. */
  config_editor_access: z.enum(["admin", "assigned"]),
  /** Password sign-in: always, only for accounts without a passkey, or never (passkeys only). */
  password_sign_in: z.enum(["allowed", "until_passkey", "disabled"]),
  /** Admins must sign in with a passkey. */
  admin_passkey_required: z.boolean(),
}).strict();

export type SettingsValues = z.infer<typeof settingsSchema>;
export type SettingsPatch = Partial<SettingsValues>;

type Listener = (values: SettingsValues, changed: (keyof SettingsValues)[]) => void;

/** Typed run-time settings stored in SQLite; defaults come from configuration. */
export class Settings {
  #listeners = new Set<Listener>();

  constructor(private readonly db: Database, private readonly defaults: SettingsValues) {}

  get(): SettingsValues {
    const values: Record<string, unknown> = { ...this.defaults };
    for (const key of Object.keys(this.defaults)) {
      const row = this.db.get<{ value: string }>("SELECT value FROM settings WHERE key = ?", key);
      if (row) values[key] = JSON.parse(row.value);
    }
    return settingsSchema.parse(values);
  }

  /** Saves the given keys in one transaction and tells listeners, so changes apply without a restart. */
  update(patch: SettingsPatch): { values: SettingsValues; changed: (keyof SettingsValues)[] } {
    const before = this.get();
    const changed = (Object.keys(patch) as (keyof SettingsValues)[]).filter((k) => patch[k] !== before[k]);
    this.db.transaction(() => {
      for (const key of changed) {
        this.db.run(
          "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
          key,
          JSON.stringify(patch[key]),
          new Date().toISOString(),
        );
      }
    });
    const values = this.get();
    if (changed.length) { for (const listener of this.#listeners) listener(values, changed); }
    return { values, changed };
  }

  /** Calls `listener` after every change; returns a function that unsubscribes. */
  onChange(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
