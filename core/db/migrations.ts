/** One forward-only schema step. Never edit a released migration: add a new one. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** The schema history, oldest first. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "users_sessions_settings",
    sql: `
      CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL UNIQUE COLLATE NOCASE,
        password_hash TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('admin', 'user')),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL,
        ip TEXT NOT NULL DEFAULT '',
        user_agent TEXT NOT NULL DEFAULT ''
      );
      CREATE INDEX sessions_user ON sessions(user_id);
      CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );`,
  },
  {
    version: 2,
    name: "instances_and_assignments",
    sql: `
      CREATE TABLE instances (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        display_name TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'stopped',
        sort_order INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE TABLE user_instances (
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        instance_id INTEGER NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
        PRIMARY KEY (user_id, instance_id)
      );
      CREATE INDEX user_instances_instance ON user_instances(instance_id);`,
  },
  {
    version: 3,
    name: "audit_log",
    sql: `
      CREATE TABLE audit_logs (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor_id INTEGER,
        actor TEXT NOT NULL,
        ip TEXT NOT NULL DEFAULT '',
        action TEXT NOT NULL,
        target TEXT NOT NULL DEFAULT '',
        instance_id INTEGER,
        outcome TEXT NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
        details TEXT NOT NULL DEFAULT '{}'
      );
      CREATE INDEX audit_logs_at ON audit_logs(at);
      CREATE INDEX audit_logs_action ON audit_logs(action, at);
      CREATE INDEX audit_logs_instance ON audit_logs(instance_id, at);`,
  },
  {
    version: 4,
    name: "ssh",
    sql: `
      ALTER TABLE instances ADD COLUMN allowed_source_ips TEXT NOT NULL DEFAULT '[]';
      CREATE TABLE ssh_host_keys (
        instance_id INTEGER PRIMARY KEY REFERENCES instances(id) ON DELETE CASCADE,
        host_key TEXT NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('backend', 'first-use')),
        pinned_at TEXT NOT NULL
      );
      CREATE TABLE ssh_events (
        id INTEGER PRIMARY KEY,
        instance_id INTEGER NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
        at TEXT NOT NULL,
        type TEXT NOT NULL,
        from_state TEXT,
        to_state TEXT,
        details TEXT NOT NULL DEFAULT '{}'
      );
      CREATE INDEX ssh_events_instance ON ssh_events(instance_id, id);`,
  },
  {
    version: 5,
    name: "instance_runtime",
    sql: `
      ALTER TABLE instances ADD COLUMN image TEXT NOT NULL DEFAULT '';
      ALTER TABLE instances ADD COLUMN cpu_limit TEXT NOT NULL DEFAULT '2';
      ALTER TABLE instances ADD COLUMN memory_limit TEXT NOT NULL DEFAULT '4Gi';
      ALTER TABLE instances ADD COLUMN gateway_token TEXT NOT NULL DEFAULT '';
      ALTER TABLE instances ADD COLUMN status_reason TEXT NOT NULL DEFAULT '';`,
  },
  {
    version: 6,
    name: "instance_display",
    sql: `ALTER TABLE instances ADD COLUMN vnc_resolution TEXT NOT NULL DEFAULT '1280x800';`,
  },
  {
    version: 7,
    name: "models_and_keys",
    // instance_id NULL is the global scope; an instance's rows go with it.
    sql: `
      CREATE TABLE model_config (
        instance_id INTEGER REFERENCES instances(id) ON DELETE CASCADE,
        doc TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE UNIQUE INDEX model_config_scope ON model_config(IFNULL(instance_id, 0));
      CREATE TABLE provider_keys (
        instance_id INTEGER REFERENCES instances(id) ON DELETE CASCADE,
        provider TEXT NOT NULL,
        token TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE UNIQUE INDEX provider_keys_scope ON provider_keys(IFNULL(instance_id, 0), provider);
      CREATE TABLE agent_config_state (
        instance_id INTEGER PRIMARY KEY REFERENCES instances(id) ON DELETE CASCADE,
        applied_hash TEXT,
        managed TEXT NOT NULL DEFAULT '[]',
        applied_at TEXT,
        last_error TEXT
      );`,
  },
  {
    version: 8,
    name: "passkeys",
    // A user's WebAuthn handle is random (never the numeric id); challenges are single-use rows.
    sql: `
      CREATE TABLE passkey_handles (
        user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
        handle TEXT NOT NULL UNIQUE
      );
      CREATE TABLE passkeys (
        id TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        public_key BLOB NOT NULL,
        sign_count INTEGER NOT NULL,
        transports TEXT NOT NULL,
        device_type TEXT NOT NULL,
        backed_up INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        last_used_at TEXT
      );
      CREATE INDEX passkeys_user ON passkeys(user_id);
      CREATE TABLE webauthn_challenges (
        id TEXT PRIMARY KEY,
        purpose TEXT NOT NULL CHECK (purpose IN ('register', 'login')),
        user_id INTEGER REFERENCES users(id) ON DELETE CASCADE,
        challenge TEXT NOT NULL,
        rp_id TEXT NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE TABLE passkey_recovery (
        user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
        until INTEGER NOT NULL
      );`,
  },
];
