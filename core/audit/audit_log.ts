import type { Database } from "../db/database.ts";
import type { Clock } from "../clock.ts";

export type AuditOutcome = "success" | "failure" | "denied";

/** Who did something: a signed-in user or the system itself. */
export interface AuditActor {
  id: number | null;
  name: string;
  ip?: string;
}

export const SYSTEM_ACTOR: AuditActor = { id: null, name: "system" };

/** One thing to record. `details` must never contain a secret. */
export interface AuditEvent {
  actor: AuditActor;
  action: string;
  target?: string;
  instanceId?: number | null;
  outcome?: AuditOutcome;
  details?: Record<string, unknown>;
}

export interface AuditEntry {
  id: number;
  at: string;
  actor_id: number | null;
  actor: string;
  ip: string;
  action: string;
  target: string;
  instance_id: number | null;
  outcome: AuditOutcome;
  details: Record<string, unknown>;
}

export interface AuditQuery {
  actor?: string;
  action?: string;
  target?: string;
  instance_id?: number;
  outcome?: AuditOutcome;
  since?: string;
  until?: string;
  limit: number;
  offset: number;
}

/** Keys whose values are dropped from details even if a caller passes them by mistake. */
const SECRET_KEY = /pass(word)?|secret|token|api[_-]?key|cookie|authorization/i;

function scrub(details: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(details).map(([k, v]) => [k, SECRET_KEY.test(k) ? "[redacted]" : v]));
}

/** The append-only audit trail in SQLite, with filtered paging and retention. */
export class AuditLog {
  constructor(private readonly db: Database, private readonly clock: Clock) {}

  record(event: AuditEvent): void {
    this.db.run(
      "INSERT INTO audit_logs (at, actor_id, actor, ip, action, target, instance_id, outcome, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      new Date(this.clock.now()).toISOString(),
      event.actor.id,
      event.actor.name,
      event.actor.ip ?? "",
      event.action,
      event.target ?? "",
      event.instanceId ?? null,
      event.outcome ?? "success",
      JSON.stringify(scrub(event.details ?? {})),
    );
  }

  /** Matching entries, newest first, with the total count before paging. */
  query(q: AuditQuery): { entries: AuditEntry[]; total: number } {
    const where: string[] = [];
    const params: (string | number)[] = [];
    const add = (sql: string, value: string | number | undefined) => {
      if (value === undefined || value === "") return;
      where.push(sql);
      params.push(value);
    };
    add("actor = ?", q.actor);
    add("action = ?", q.action);
    add("target = ?", q.target);
    add("instance_id = ?", q.instance_id);
    add("outcome = ?", q.outcome);
    add("at >= ?", q.since);
    add("at <= ?", q.until);
    const clause = where.length ? `WHERE ${where.join(" AND ")}` : "";
    const total = Number(
      this.db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM audit_logs ${clause}`, ...params)?.n ?? 0,
    );
    const rows = this.db.all<Omit<AuditEntry, "details"> & { details: string }>(
      `SELECT * FROM audit_logs ${clause} ORDER BY at DESC, id DESC LIMIT ? OFFSET ?`,
      ...params,
      q.limit,
      q.offset,
    );
    return { entries: rows.map((r) => ({ ...r, details: JSON.parse(r.details) })), total };
  }

  /** The distinct action names seen, for filter menus. */
  actions(): string[] {
    return this.db.all<{ action: string }>("SELECT DISTINCT action FROM audit_logs ORDER BY action").map((r) =>
      r.action
    );
  }

  /** Deletes entries older than `days`; returns how many. */
  purgeOlderThan(days: number): number {
    const cutoff = new Date(this.clock.now() - days * 86_400_000).toISOString();
    return this.db.run("DELETE FROM audit_logs WHERE at < ?", cutoff).changes;
  }
}
