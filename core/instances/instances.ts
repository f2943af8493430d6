import type { Database } from "../db/database.ts";
import { AppError } from "../errors.ts";
import type { SessionUser } from "../auth/sessions.ts";
import type { LiveBus } from "./live_events.ts";

/** An instance row as the API lists it. */
export interface InstanceSummary {
  id: number;
  name: string;
  display_name: string;
  status: string;
  /** Why the status is what it is (an error's cause), empty otherwise. */
  status_reason: string;
  image: string;
  cpu_limit: string;
  memory_limit: string;
  vnc_resolution: string;
  sort_order: number;
  created_at: string;
  updated_at: string;
  /** Usernames assigned to the instance (admins only; users get an empty list). */
  assigned_users: string[];
}

/** What an instance runs with; stored so it can be re-created the same way. */
export interface InstanceRuntime {
  image: string;
  cpu_limit: string;
  memory_limit: string;
  vnc_resolution: string;
}

/** For rows made outside the lifecycle (tests, imports): the schema's defaults. */
const NO_RUNTIME: InstanceRuntime = { image: "", cpu_limit: "2", memory_limit: "4Gi", vnc_resolution: "1280x800" };

const COLUMNS = [
  "id",
  "name",
  "display_name",
  "status",
  "status_reason",
  "image",
  "cpu_limit",
  "memory_limit",
  "vnc_resolution",
  "sort_order",
  "created_at",
  "updated_at",
];
const SELECT = COLUMNS.map((c) => `i.${c}`).join(", ");
type Row = Omit<InstanceSummary, "assigned_users">;

/**
 * Rows as summaries, with their assigned usernames (none unless `assigned` is given). The rows are
 * completed in place: copying a thousand of them with spreads cost more than the query.
 */
function summaries(rows: Row[], assigned?: Map<number, string[]>): InstanceSummary[] {
  for (const row of rows as InstanceSummary[]) row.assigned_users = assigned?.get(row.id) ?? [];
  return rows as InstanceSummary[];
}

function summary(row: Row | undefined): InstanceSummary | undefined {
  return row && summaries([row])[0];
}

/** The instances table. Every change is published on the live bus for the dashboard. */
export class Instances {
  constructor(private readonly db: Database, private readonly bus?: LiveBus) {}

  /** Instances the user may see, in the admins' order: all for admins (with assignments), assigned ones for users. */
  listFor(user: Pick<SessionUser, "id" | "role">): InstanceSummary[] {
    if (user.role === "admin") {
      const assigned = new Map<number, string[]>();
      for (
        const a of this.db.all<{ instance_id: number; username: string }>(
          "SELECT ui.instance_id, u.username FROM user_instances ui JOIN users u ON u.id = ui.user_id ORDER BY u.username",
        )
      ) {
        const names = assigned.get(a.instance_id);
        if (names) names.push(a.username);
        else assigned.set(a.instance_id, [a.username]);
      }
      return summaries(this.db.all<Row>(`SELECT ${SELECT} FROM instances i ORDER BY i.sort_order, i.id`), assigned);
    }
    return summaries(this.db.all<Row>(
      `SELECT ${SELECT} FROM instances i
         JOIN user_instances ui ON ui.instance_id = i.id WHERE ui.user_id = ? ORDER BY i.sort_order, i.id`,
      user.id,
    ));
  }

  /** Every instance (for reconciling with the engine). */
  all(): InstanceSummary[] {
    return summaries(this.db.all<Row>(`SELECT ${SELECT} FROM instances i ORDER BY i.id`));
  }

  find(id: number): InstanceSummary | undefined {
    return summary(this.db.get<Row>(`SELECT ${SELECT} FROM instances i WHERE i.id = ?`, id));
  }

  findByName(name: string): InstanceSummary | undefined {
    return summary(this.db.get<Row>(`SELECT ${SELECT} FROM instances i WHERE i.name = ?`, name));
  }

  /** Throws INSTANCE_NOT_FOUND when missing. */
  get(id: number): InstanceSummary {
    const found = this.find(id);
    if (!found) throw new AppError("INSTANCE_NOT_FOUND", `Instance ${id} does not exist.`);
    return found;
  }

  /** Whether a user may see the instance (admins see all). */
  visibleTo(user: Pick<SessionUser, "id" | "role">, id: number): boolean {
    if (user.role === "admin") return true;
    return Boolean(
      this.db.get("SELECT 1 AS ok FROM user_instances WHERE user_id = ? AND instance_id = ?", user.id, id),
    );
  }

  /** Records a status (and its reason) the lifecycle service observed; publishes only real changes. */
  setStatus(id: number, status: string, reason = ""): void {
    const before = this.find(id);
    if (!before || (before.status === status && before.status_reason === reason)) return;
    this.db.run(
      "UPDATE instances SET status = ?, status_reason = ?, updated_at = ? WHERE id = ?",
      status,
      reason,
      new Date().toISOString(),
      id,
    );
    this.#changed(id);
  }

  /** Stores what the runtime needs to (re)create the instance. */
  setRuntime(id: number, runtime: Partial<InstanceRuntime> & { gateway_token?: string }): void {
    const fields = Object.entries(runtime).filter(([, v]) => v !== undefined);
    if (!fields.length) return;
    this.db.run(
      `UPDATE instances SET ${fields.map(([k]) => `${k} = ?`).join(", ")}, updated_at = ? WHERE id = ?`,
      ...fields.map(([, v]) => v as string),
      new Date().toISOString(),
      id,
    );
    this.#changed(id);
  }

  setDisplayName(id: number, displayName: string): void {
    this.db.run(
      "UPDATE instances SET display_name = ?, updated_at = ? WHERE id = ?",
      displayName,
      new Date().toISOString(),
      id,
    );
    this.#changed(id);
  }

  /** The encrypted gateway token. */
  gatewayToken(id: number): string {
    return this.db.get<{ gateway_token: string }>("SELECT gateway_token FROM instances WHERE id = ?", id)
      ?.gateway_token ?? "";
  }

  /** Puts the given ids first, in that order; the rest keep their relative order after them. */
  reorder(ids: number[]): void {
    const known = new Set(this.db.all<{ id: number }>("SELECT id FROM instances").map((r) => r.id));
    const unknown = ids.filter((id) => !known.has(id));
    if (unknown.length) throw new AppError("INSTANCE_NOT_FOUND", `Unknown instance ids: ${unknown.join(", ")}.`);
    const rest = this.db.all<{ id: number }>("SELECT id FROM instances ORDER BY sort_order, id")
      .map((r) => r.id).filter((id) => !ids.includes(id));
    this.db.transaction(() => {
      [...ids, ...rest].forEach((id, i) => this.db.run("UPDATE instances SET sort_order = ? WHERE id = ?", i + 1, id));
    });
  }

  /** Removes the row; assignments, pins and SSH events go with it. */
  delete(id: number): void {
    this.db.run("DELETE FROM instances WHERE id = ?", id);
    this.bus?.publish({ type: "instance_deleted", id });
  }

  /** Ids of instances whose stored status is one of `statuses`. */
  idsWithStatus(...statuses: string[]): number[] {
    return this.db.all<{ id: number }>(
      `SELECT id FROM instances WHERE status IN (${statuses.map(() => "?").join(", ")}) ORDER BY id`,
      ...statuses,
    ).map((r) => r.id);
  }

  /** The instance's source-IP allow-list (empty = any address). */
  sourceIps(id: number): string[] {
    const row = this.db.get<{ allowed_source_ips: string }>(
      "SELECT allowed_source_ips FROM instances WHERE id = ?",
      id,
    );
    return row ? JSON.parse(row.allowed_source_ips) : [];
  }

  /** Replaces the allow-list (already validated and normalised by the caller). */
  setSourceIps(id: number, list: string[]): void {
    this.get(id);
    this.db.run(
      "UPDATE instances SET allowed_source_ips = ?, updated_at = ? WHERE id = ?",
      JSON.stringify(list),
      new Date().toISOString(),
      id,
    );
  }

  /** Adds a row with status `creating` (before any backend work); 409 when the name is taken. */
  insert(
    name: string,
    displayName: string,
    runtime: InstanceRuntime = NO_RUNTIME,
    sourceIps: string[] = [],
  ): InstanceSummary {
    const now = new Date().toISOString();
    const next = Number(
      this.db.get<{ n: number }>("SELECT COALESCE(MAX(sort_order), 0) + 1 AS n FROM instances")?.n ?? 1,
    );
    try {
      const { lastId } = this.db.run(
        `INSERT INTO instances (name, display_name, status, sort_order, image, cpu_limit, memory_limit,
           vnc_resolution, allowed_source_ips, created_at, updated_at)
         VALUES (?, ?, 'creating', ?, ?, ?, ?, ?, ?, ?, ?)`,
        name,
        displayName,
        next,
        runtime.image,
        runtime.cpu_limit,
        runtime.memory_limit,
        runtime.vnc_resolution,
        JSON.stringify(sourceIps),
        now,
        now,
      );
      this.#changed(lastId);
      return this.get(lastId);
    } catch (e) {
      if (String(e).includes("UNIQUE")) throw new AppError("CONFLICT", `An instance named "${name}" already exists.`);
      throw e;
    }
  }

  #changed(id: number): void {
    if (!this.bus?.size) return;
    const instance = this.find(id);
    if (instance) this.bus.publish({ type: "instance", instance });
  }
}
