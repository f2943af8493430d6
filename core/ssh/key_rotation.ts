import type { AuditActor, AuditLog } from "../audit/audit_log.ts";
import type { Database } from "../db/database.ts";
import type { Instances } from "../instances/instances.ts";
import { authorizedLine } from "./authorized_line.ts";
import type { SshEvents } from "./events.ts";
import { generateKeyPair, type SshKeyStore } from "./key_store.ts";
import type { SshPool } from "./pool.ts";
import { fingerprint, keyBlob } from "./public_key.ts";
import { fromOption } from "./source_ips.ts";

/** One instance's outcome in a rotation report. */
export interface InstanceRotation {
  instance_id: number;
  name: string;
  success: boolean;
  error?: string;
}

export interface RotationReport {
  old_fingerprint: string;
  new_fingerprint: string;
  timestamp: string;
  /** True when this call finished an earlier partial rotation instead of making a new key. */
  resumed: boolean;
  instance_statuses: InstanceRotation[];
  full_success: boolean;
}

const ROTATED_AT = "ssh_key_rotated_at";
const DEFAULT_FILE = ".ssh/authorized_keys";

/** Quotes `s` for a POSIX shell (single quotes; embedded ones closed and escaped). */
export function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/**
 * Zero-downtime rotation of the global key: install the new key next to the old one on every active
 * instance over its live connection, prove a fresh login with the new key, switch the pool (which still
 * offers the old key as a fallback), then remove the old key where the new one works. The old pair is
 * kept until every instance is done; calling again finishes the stragglers. Stopped instances get the
 * current key from their backend when they next start.
 */
export class KeyRotation {
  #running: Promise<RotationReport> | null = null;
  /** Instances whose key line is older than their restrictions (not connected when those changed). */
  #stale = new Set<number>();
  /** The rewrite of each instance's key line in progress (the next one waits for it). */
  #rewrites = new Map<number, Promise<boolean>>();
  #unsubscribe: (() => void) | null = null;

  constructor(
    private readonly deps: {
      db: Database;
      pool: SshPool;
      keys: SshKeyStore;
      instances: Instances;
      events: SshEvents;
      audit: AuditLog;
    },
  ) {}

  /** When the key last changed (ISO), or null when never recorded. */
  rotatedAt(): string | null {
    return this.deps.db.get<{ value: string }>("SELECT value FROM settings WHERE key = ?", ROTATED_AT)?.value ?? null;
  }

  /**
   * Rotates (or finishes a partial rotation); concurrent calls share one run. Every call is audited
   * with its own actor (one that joined a run already going says so), a rotation that threw as a failure.
   */
  async rotate(actor: AuditActor): Promise<RotationReport> {
    const joined = this.#running !== null;
    this.#running ??= this.#rotate().finally(() => this.#running = null);
    const audit = (outcome: "success" | "failure", details: Record<string, unknown>) =>
      this.deps.audit.record({
        actor,
        action: "ssh.key_rotation",
        target: "ssh-key",
        outcome,
        details: joined ? { ...details, joined_running: true } : details,
      });
    let report: RotationReport;
    try {
      report = await this.#running;
    } catch (e) {
      audit("failure", { error: (e as Error).message });
      throw e;
    }
    audit(report.full_success ? "success" : "failure", {
      old_fingerprint: report.old_fingerprint,
      new_fingerprint: report.new_fingerprint,
      resumed: report.resumed,
      failed: report.instance_statuses.filter((s) => !s.success).map((s) => s.instance_id),
    });
    return report;
  }

  /** Rotates when the policy says the key is older than `days` (0 = never). */
  async rotateIfDue(days: number, now: number, actor: AuditActor): Promise<RotationReport | null> {
    if (days <= 0) return null;
    const at = this.rotatedAt();
    if (!at) {
      this.#markRotated(new Date(now).toISOString());
      return null;
    }
    if (now - Date.parse(at) < days * 86_400_000 && !this.deps.keys.previous) return null;
    return await this.rotate(actor);
  }

  async #rotate(): Promise<RotationReport> {
    const { keys, pool, instances } = this.deps;
    const resumed = keys.previous !== null;
    const old = resumed ? keys.previous! : { privateKey: keys.privateKey, publicKey: keys.publicKey };
    const next = resumed ? { privateKey: keys.privateKey, publicKey: keys.publicKey } : generateKeyPair();
    const ids = pool.activeIds();
    const statuses = await Promise.all(ids.map(async (id): Promise<InstanceRotation> => {
      const name = instances.find(id)?.name ?? String(id);
      try {
        await this.#install(id, next.publicKey);
        await pool.verifyLogin(id, next.privateKey);
        return { instance_id: id, name, success: true };
      } catch (e) {
        return { instance_id: id, name, success: false, error: (e as Error).message };
      }
    }));
    if (!resumed) await keys.rotateTo(next);
    for (const s of statuses.filter((s) => s.success)) {
      try {
        await this.#remove(s.instance_id, old.publicKey);
      } catch (e) {
        Object.assign(s, {
          success: false,
          error: `new key works, but removing the old one failed: ${(e as Error).message}`,
        });
      }
    }
    const fullSuccess = statuses.every((s) => s.success);
    if (fullSuccess) await keys.dropPrevious();
    const timestamp = new Date().toISOString();
    if (!resumed) this.#markRotated(timestamp);
    return {
      old_fingerprint: fingerprint(old.publicKey),
      new_fingerprint: fingerprint(next.publicKey),
      timestamp,
      resumed,
      instance_statuses: statuses,
      full_success: fullSuccess,
    };
  }

  /**
   * Rewrites the current key's line on a connected instance with its current restrictions (e.g. a new
   * `from=` after the source-IP list changed), in one command so access is never lost half-way.
   * Returns false when the instance is not connected: the line is then rewritten when its connection
   * comes (back) up (see `watch`), and its backend installs it at the next start. Rewrites of one
   * instance run one after the other, so the last one (with the newest list) is the one that stays.
   */
  refreshLine(id: number): Promise<boolean> {
    this.#stale.add(id);
    const run = (this.#rewrites.get(id) ?? Promise.resolve()).catch(() => {}).then(() => this.#rewriteLine(id));
    this.#rewrites.set(id, run);
    const forget = () => {
      if (this.#rewrites.get(id) === run) this.#rewrites.delete(id);
    };
    run.then(forget, forget);
    return run;
  }

  async #rewriteLine(id: number): Promise<boolean> {
    const { pool, keys, instances } = this.deps;
    // This connection only: never dial (the instance may be stopping), so a lost one leaves the line stale.
    const conn = pool.current(id);
    if (!conn) {
      this.#stale.add(id);
      return false;
    }
    const file = (await pool.endpoint(id)).authorizedKeysFile ?? DEFAULT_FILE;
    const line = authorizedLine(keys.publicKey, pool.targets, fromOption(instances.sourceIps(id)));
    const blob = keyBlob(keys.publicKey).toString("base64");
    // The other lines are read into a variable first, so rewriting the file in place loses nothing.
    const cmd = `f=${shellQuote(file)}; keep="$(grep -vF ${shellQuote(blob)} "$f")"; ` +
      `{ if [ -n "$keep" ]; then printf '%s\n' "$keep"; fi; printf '%s\n' ${shellQuote(line)}; } > "$f"`;
    const r = await conn.exec(cmd, { timeoutMs: 10_000, maxOutput: 4096 });
    if (r.code !== 0) throw new Error(`updating the authorized key failed (exit ${r.code}): ${r.stderr.trim()}`);
    this.#stale.delete(id);
    return true;
  }

  /** Rewrites a stale key line (see `refreshLine`) as soon as its instance connects or reconnects. */
  watch(onError: (id: number, error: Error) => void = () => {}): void {
    this.#unsubscribe ??= this.deps.events.subscribe((e) => {
      if ((e.type !== "connected" && e.type !== "reconnected") || !this.#stale.has(e.instance_id)) return;
      this.refreshLine(e.instance_id).catch((err) => onError(e.instance_id, err as Error));
    });
  }

  /** Appends the restricted line for `publicKey` unless that key is already there (idempotent). */
  async #install(id: number, publicKey: string): Promise<void> {
    const { pool, instances, events } = this.deps;
    const file = (await pool.endpoint(id)).authorizedKeysFile ?? DEFAULT_FILE;
    const line = authorizedLine(publicKey, pool.targets, fromOption(instances.sourceIps(id)));
    const blob = keyBlob(publicKey).toString("base64");
    const cmd = `f=${shellQuote(file)}; mkdir -p "$(dirname "$f")" && touch "$f" && ` +
      `{ grep -qF ${shellQuote(blob)} "$f" || { printf '%s\\n' ${shellQuote(line)} >> "$f" && echo added; }; }`;
    const r = await pool.exec(id, cmd, { timeoutMs: 10_000, maxOutput: 4096 });
    if (r.code !== 0) throw new Error(`installing the new key failed (exit ${r.code}): ${r.stderr.trim()}`);
    if (r.stdout.trim() !== "added") return;
    events.record(id, "key_uploaded", { fingerprint: fingerprint(publicKey) });
    this.deps.audit.record({
      actor: { id: null, name: "system" },
      action: "ssh.key_install",
      target: `instance:${id}`,
      instanceId: id,
      details: { fingerprint: fingerprint(publicKey) },
    });
  }

  /** Removes every line of `publicKey`, rewriting the file in place (keeps owner and mode; no temp file,
   * so the login user needs no write access to the folder). */
  async #remove(id: number, publicKey: string): Promise<void> {
    const { pool } = this.deps;
    const file = (await pool.endpoint(id)).authorizedKeysFile ?? DEFAULT_FILE;
    const blob = keyBlob(publicKey).toString("base64");
    const cmd = `f=${shellQuote(file)}; keep="$(grep -vF ${shellQuote(blob)} "$f")"; ` +
      `if [ -n "$keep" ]; then printf '%s\n' "$keep" > "$f"; else : > "$f"; fi`;
    const r = await pool.exec(id, cmd, { timeoutMs: 10_000, maxOutput: 4096 });
    if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr.trim()}`);
  }

  #markRotated(at: string): void {
    this.deps.db.run(
      "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
      ROTATED_AT,
      at,
      at,
    );
  }
}
