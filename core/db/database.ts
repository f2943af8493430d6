import { backup, DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { type Migration, MIGRATIONS } from "./migrations.ts";

export type SqlValue = SQLInputValue;
export type Row = Record<string, SqlValue>;

/** node:sqlite with the settings we always want, a transaction helper and forward-only migrations. */
export class Database {
  readonly raw: DatabaseSync;
  #depth = 0;
  /** Prepared statements by SQL text (preparing costs as much as running a small query). */
  #statements = new Map<string, StatementSync>();

  constructor(readonly path: string) {
    this.raw = new DatabaseSync(path);
    this.raw.exec("PRAGMA journal_mode = WAL");
    this.raw.exec("PRAGMA busy_timeout = 5000");
    this.raw.exec("PRAGMA foreign_keys = ON");
    this.raw.exec("PRAGMA synchronous = NORMAL");
  }

  /** All rows of a query. */
  all<T = Row>(sql: string, ...params: SqlValue[]): T[] {
    return this.#prepare(sql).all(...params) as T[];
  }

  /** The first row of a query, or undefined. */
  get<T = Row>(sql: string, ...params: SqlValue[]): T | undefined {
    return this.#prepare(sql).get(...params) as T | undefined;
  }

  /** Runs a statement; returns the changed row count and last insert id. */
  run(sql: string, ...params: SqlValue[]): { changes: number; lastId: number } {
    const r = this.#prepare(sql).run(...params);
    return { changes: Number(r.changes), lastId: Number(r.lastInsertRowid) };
  }

  #prepare(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.raw.prepare(sql);
      // Bounded: SQL built from a variable number of placeholders must not grow the cache forever.
      if (this.#statements.size >= 500) this.#statements.clear();
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** Runs `fn` in one transaction (nested calls join the outer one); rolls back if it throws. */
  transaction<T>(fn: () => T): T {
    if (this.#depth > 0) return fn();
    this.raw.exec("BEGIN IMMEDIATE");
    this.#depth++;
    try {
      const result = fn();
      this.raw.exec("COMMIT");
      return result;
    } catch (e) {
      this.raw.exec("ROLLBACK");
      throw e;
    } finally {
      this.#depth--;
    }
  }

  /** The highest applied migration number (0 for a new database). */
  schemaVersion(): number {
    this.raw.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
    );
    return Number(this.get<{ v: number | null }>("SELECT MAX(version) AS v FROM schema_migrations")?.v ?? 0);
  }

  /**
   * A consistent copy of the whole database in a new file, safe while others use it (SQLite's online
   * backup; `VACUUM INTO` needs ATTACH, which Deno turns off without full permissions).
   */
  async copyTo(path: string): Promise<void> {
    await backup(this.raw, path);
  }

  /**
   * Applies pending migrations in order, each in its own transaction. Refuses a database from a newer
   * release. Before changing a database that holds data, a copy is kept beside it
   * (`<file>.pre-v<next>-<time>.bak`), so an upgrade can always be undone by hand.
   */
  migrate(migrations: readonly Migration[] = MIGRATIONS, upTo = Infinity): number[] {
    const current = this.schemaVersion();
    const latest = migrations.at(-1)?.version ?? 0;
    if (current > latest) {
      throw new Error(
        `Database schema version ${current} is newer than this release supports (${latest}); upgrade Claworc.`,
      );
    }
    const pending = migrations.filter((m) => m.version > current && m.version <= upTo);
    if (current > 0 && pending.length && this.path !== ":memory:") {
      // At start-up nothing else writes: fold the WAL into the file, then copy the file.
      this.raw.exec("PRAGMA wal_checkpoint(TRUNCATE)");
      Deno.copyFileSync(this.path, `${this.path}.pre-v${pending[0].version}-${fileStamp()}.bak`);
    }
    const applied: number[] = [];
    for (const m of pending) {
      this.transaction(() => {
        this.raw.exec(m.sql);
        this.run(
          "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
          m.version,
          m.name,
          new Date().toISOString(),
        );
      });
      applied.push(m.version);
    }
    return applied;
  }

  /** True when SQLite's integrity check passes. */
  healthy(): boolean {
    try {
      return this.get<{ ok: number }>("SELECT 1 AS ok")?.ok === 1;
    } catch {
      return false;
    }
  }

  close(): void {
    this.#statements.clear();
    if (this.raw.isOpen) this.raw.close();
  }
}

/** `20261127T010203`: a UTC time for file names (sorts by time, no characters file systems dislike). */
export function fileStamp(date = new Date()): string {
  return date.toISOString().replace(/[-:]/g, "").slice(0, 15);
}
