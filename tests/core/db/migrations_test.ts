import assert from "node:assert/strict";
import { Database } from "../../../core/db/database.ts";
import { MIGRATIONS } from "../../../core/db/migrations.ts";

Deno.test("a database created by the first migration upgrades to the latest with its data", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/claworc.db`;
  try {
    const old = new Database(path);
    assert.deepEqual(old.migrate(MIGRATIONS, 1), [1]);
    old.run(
      "INSERT INTO users (username, password_hash, role, created_at, updated_at) VALUES ('ann', 'h', 'admin', 'x', 'x')",
    );
    old.run("INSERT INTO settings (key, value, updated_at) VALUES ('audit_retention_days', '30', 'x')");
    old.close();

    const db = new Database(path);
    const applied = db.migrate();
    assert.deepEqual(applied, MIGRATIONS.slice(1).map((m) => m.version));
    // The database as it was is kept beside it, readable at its old version.
    const backups = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".bak"));
    assert.equal(backups.length, 1);
    assert.match(backups[0], /^claworc\.db\.pre-v2-\d{8}T\d{6}\.bak$/);
    const kept = new Database(`${dir}/${backups[0]}`);
    assert.equal(kept.schemaVersion(), 1);
    assert.equal(kept.get<{ username: string }>("SELECT username FROM users")?.username, "ann");
    kept.close();
    assert.equal(db.schemaVersion(), MIGRATIONS.at(-1)!.version);
    assert.equal(db.get<{ username: string }>("SELECT username FROM users")?.username, "ann");
    assert.equal(
      db.get<{ value: string }>("SELECT value FROM settings WHERE key = 'audit_retention_days'")?.value,
      "30",
    );
    db.run("INSERT INTO instances (name, display_name, created_at, updated_at) VALUES ('bot-a', 'A', 'x', 'x')");
    db.run("INSERT INTO user_instances (user_id, instance_id) VALUES (1, 1)");
    db.run("INSERT INTO audit_logs (at, actor, action, outcome) VALUES ('x', 'ann', 'a', 'success')");
    assert.deepEqual(db.migrate(), [], "applying again is a no-op");
    assert.equal([...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".bak")).length, 1, "and copies nothing");
    assert.equal(db.get<{ journal_mode: string }>("PRAGMA journal_mode")?.journal_mode, "wal");
    db.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a database from a newer release is refused", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const db = new Database(`${dir}/c.db`);
    db.migrate();
    db.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 'x')");
    assert.throws(() => db.migrate(), /newer than this release/);
    db.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a failing transaction leaves nothing behind", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const db = new Database(`${dir}/c.db`);
    db.migrate();
    assert.throws(() =>
      db.transaction(() => {
        db.run(
          "INSERT INTO users (username, password_hash, role, created_at, updated_at) VALUES ('x', 'h', 'user', 'x', 'x')",
        );
        db.run(
          "INSERT INTO users (username, password_hash, role, created_at, updated_at) VALUES ('X', 'h', 'user', 'x', 'x')",
        );
      })
    );
    assert.equal(db.get<{ n: number }>("SELECT COUNT(*) AS n FROM users")?.n, 0);
    db.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
