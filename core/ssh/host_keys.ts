import type { Database } from "../db/database.ts";
import { sameKey } from "./public_key.ts";

export type PinSource = "backend" | "first-use";

/** What to do with the key an instance's sshd presented. */
export type HostKeyVerdict = { ok: true; pinnedNow: boolean } | { ok: false; expected: string };

/** Host keys pinned per instance in SQLite, so a restart keeps protecting against impostors. */
export class HostKeyPins {
  constructor(private readonly db: Database) {}

  get(instanceId: number): { host_key: string; source: PinSource } | undefined {
    return this.db.get("SELECT host_key, source FROM ssh_host_keys WHERE instance_id = ?", instanceId);
  }

  /** Pins a key the runtime backend injected (replaces any earlier pin, e.g. after a re-create). */
  pin(instanceId: number, hostKey: string, source: PinSource): void {
    this.db.run(
      `INSERT INTO ssh_host_keys (instance_id, host_key, source, pinned_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (instance_id) DO UPDATE SET host_key = excluded.host_key, source = excluded.source, pinned_at = excluded.pinned_at`,
      instanceId,
      hostKey,
      source,
      new Date().toISOString(),
    );
  }

  /**
   * Checks a presented key: the backend's expected key wins, else the stored pin, else trust on first
   * use (and pin it).
   */
  verify(instanceId: number, presented: string, expectedFromBackend?: string): HostKeyVerdict {
    if (expectedFromBackend) {
      if (!sameKey(expectedFromBackend, presented)) return { ok: false, expected: expectedFromBackend };
      const pinned = this.get(instanceId);
      if (!pinned || !sameKey(pinned.host_key, presented)) this.pin(instanceId, presented, "backend");
      return { ok: true, pinnedNow: !pinned };
    }
    const pinned = this.get(instanceId);
    if (pinned) {
      return sameKey(pinned.host_key, presented)
        ? { ok: true, pinnedNow: false }
        : { ok: false, expected: pinned.host_key };
    }
    this.pin(instanceId, presented, "first-use");
    return { ok: true, pinnedNow: true };
  }
}
