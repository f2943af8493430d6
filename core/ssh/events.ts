import type { Database } from "../db/database.ts";
import type { Clock } from "../clock.ts";

export type LinkState = "disconnected" | "connecting" | "connected" | "reconnecting" | "failed";

export type SshEventType =
  | "state_change"
  | "connected"
  | "disconnected"
  | "reconnecting"
  | "reconnected"
  | "reconnect_failed"
  | "health_check_failed"
  | "key_uploaded"
  | "host_key_mismatch"
  | "rate_limited"
  | "ip_blocked";

export interface SshEvent {
  id: number;
  instance_id: number;
  at: string;
  type: SshEventType;
  from_state: LinkState | null;
  to_state: LinkState | null;
  details: Record<string, unknown>;
}

type Listener = (event: SshEvent) => void;

/** An instance's history is trimmed back to `keepPerInstance` once this many events were added to it. */
const TRIM_EVERY = 50;

/**
 * Per-instance SSH history kept in SQLite (at most `keepPerInstance` + `TRIM_EVERY` − 1 rows per instance), and an
 * in-process bus for live listeners. Events of an instance that no longer exists are dropped.
 */
export class SshEvents {
  #listeners = new Set<Listener>();
  /** Events stored per instance since its history was last trimmed. */
  #sinceTrim = new Map<number, number>();

  constructor(private readonly db: Database, private readonly clock: Clock, private readonly keepPerInstance = 200) {}

  record(
    instanceId: number,
    type: SshEventType,
    details: Record<string, unknown> = {},
    transition?: { from: LinkState; to: LinkState },
  ): SshEvent {
    const at = new Date(this.clock.now()).toISOString();
    // An instance deleted meanwhile (a late close, a connect racing the delete) has no history left to add to.
    const { changes, lastId } = this.db.run(
      `INSERT INTO ssh_events (instance_id, at, type, from_state, to_state, details)
       SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM instances WHERE id = ?)`,
      instanceId,
      at,
      type,
      transition?.from ?? null,
      transition?.to ?? null,
      JSON.stringify(details),
      instanceId,
    );
    if (changes === 0) {
      this.#sinceTrim.delete(instanceId);
      return { id: 0, instance_id: instanceId, at, type, from_state: null, to_state: null, details };
    }
    const added = (this.#sinceTrim.get(instanceId) ?? 0) + 1;
    this.#sinceTrim.set(instanceId, added % TRIM_EVERY);
    if (added >= TRIM_EVERY) this.trim(instanceId);
    const event: SshEvent = {
      id: lastId,
      instance_id: instanceId,
      at,
      type,
      from_state: transition?.from ?? null,
      to_state: transition?.to ?? null,
      details,
    };
    for (const listener of this.#listeners) listener(event);
    return event;
  }

  /** The newest `limit` events of one instance (optionally only transitions), oldest first. */
  list(instanceId: number, limit = 100, transitionsOnly = false): SshEvent[] {
    const rows = this.db.all<Omit<SshEvent, "details"> & { details: string }>(
      `SELECT * FROM ssh_events WHERE instance_id = ? ${transitionsOnly ? "AND type = 'state_change'" : ""}
       ORDER BY id DESC LIMIT ?`,
      instanceId,
      limit,
    );
    return rows.reverse().map((r) => ({ ...r, details: JSON.parse(r.details) }));
  }

  /** Subscribes to every new event; returns the unsubscribe function. */
  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  private trim(instanceId: number): void {
    this.db.run(
      `DELETE FROM ssh_events WHERE instance_id = ? AND id <= (
         SELECT id FROM ssh_events WHERE instance_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
      instanceId,
      instanceId,
      this.keepPerInstance,
    );
  }
}

/** An event as the API and the instance page show it. */
export function eventForApi(e: SshEvent) {
  return { type: e.type, timestamp: e.at, from: e.from_state, to: e.to_state, details: e.details };
}
