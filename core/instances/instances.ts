import type { Database } from "../db/database.ts";
import { AppError } from "../errors.ts";
import type { SessionUser } from "../auth/sessions.ts";

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
  sort_order: number;
  created_at: string;
  updated_at: string;
}

const COLUMNS =
  "id, name, display_name, status, status_reason, image, cpu_limit, memory_limit, sort_order, created_at, updated_at";

/** The instances table. Lifecycle (create on a backend, start, stop) arrives with the runtime backends. */
export class Instances {
  constructor(private readonly db: Database) {}

  /** Instances the user may see: all for admins, assigned ones for users. */
  listFor(user: Pick<SessionUser, "id" | "role">): InstanceSummary[] {
    if (user.role === "admin") return this.db.all(`SELECT ${COLUMNS} FROM instances ORDER BY sort_order, id`);
    return this.db.all(
      `SELECT ${COLUMNS.split(", ").map((c) => `i.${c}`).join(", ")} FROM instances i
         JOIN user_instances ui ON ui.instance_id = i.id WHERE ui.user_id = ? ORDER BY i.sort_order, i.id`,
      user.id,
    );
  }

  find(id: number): InstanceSummary | undefined {
    return this.db.get(`SELECT ${COLUMNS} FROM instances WHERE id = ?`, id);
  }

  /** Throws INSTANCE_NOT_FOUND when missing. */
  get(id: number): InstanceSummary {
    const found = this.find(id);
    if (!found) throw new AppError("INSTANCE_NOT_FOUND", `Instance ${id} does not exist.`);
    return found;
  }

  /** Records a status (and its reason) the lifecycle service observed. */
  setStatus(id: number, status: string, reason = ""): void {
    this.db.run(
      "UPDATE instances SET status = ?, status_reason = ?, updated_at = ? WHERE id = ?",
      status,
      reason,
      new Date().toISOString(),
      id,
    );
  }

  /** Stores what the runtime needs to (re)create the instance. */
  setRuntime(
    id: number,
    runtime: { image: string; cpu_limit: string; memory_limit: string; gateway_token: string },
  ): void {
    this.db.run(
      "UPDATE instances SET image = ?, cpu_limit = ?, memory_limit = ?, gateway_token = ?, updated_at = ? WHERE id = ?",
      runtime.image,
      runtime.cpu_limit,
      runtime.memory_limit,
      runtime.gateway_token,
      new Date().toISOString(),
      id,
    );
  }

  /** Removes the row; assignments, pins and SSH events go with it. */
  delete(id: number): void {
    this.db.run("DELETE FROM instances WHERE id = ?", id);
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

  /** Adds a row (the instance service calls this before asking a backend to create the container). */
  insert(name: string, displayName: string): InstanceSummary {
    const now = new Date().toISOString();
    const next = Number(
      this.db.get<{ n: number }>("SELECT COALESCE(MAX(sort_order), 0) + 1 AS n FROM instances")?.n ?? 1,
    );
    try {
      const { lastId } = this.db.run(
        "INSERT INTO instances (name, display_name, status, sort_order, created_at, updated_at) VALUES (?, ?, 'creating', ?, ?, ?)",
        name,
        displayName,
        next,
        now,
        now,
      );
      return this.get(lastId);
    } catch (e) {
      if (String(e).includes("UNIQUE")) throw new AppError("CONFLICT", `An instance named "${name}" already exists.`);
      throw e;
    }
  }
}
