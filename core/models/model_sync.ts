import { AppError } from "../errors.ts";
import type { AuditActor, AuditLog } from "../audit/audit_log.ts";
import { SYSTEM_ACTOR } from "../audit/audit_log.ts";
import type { Database } from "../db/database.ts";
import type { Instances } from "../instances/instances.ts";
import { openclawConfig } from "../instances/agent_files.ts";
import type { Logger } from "../log.ts";
import { type AgentConfig, configHash } from "../openclaw/agent_config.ts";
import { KeyedLock } from "../openclaw/keyed_lock.ts";
import type { SshEvents } from "../ssh/events.ts";
import { effectiveModels, type ManagedConfig, managedConfig, mergeManaged } from "./effective.ts";
import type { ModelStore } from "./model_store.ts";

/** Where an instance stands with the model configuration it should have. */
export interface SyncState {
  /**
   * `applied`: the instance runs the current choice; `pending`: it will get it (at its next start if
   * stopped); `failed`: the last try on the running instance failed (`last_error`).
   */
  state: "applied" | "pending" | "failed";
  applied_at: string | null;
  last_error: string | null;
}

export interface RolloutResult {
  instance_id: number;
  name: string;
  state: "queued" | "applying" | "applied" | "unchanged" | "waiting" | "failed";
  error: string | null;
  /** The end of the agent gateway's log when it did not come back with the change. */
  gateway_log?: string;
  duration_ms: number | null;
}

/** A change pushed to instances, instance by instance, as the dashboard follows it. */
export interface Rollout {
  id: string;
  reason: string;
  state: "running" | "done";
  started_at: string;
  finished_at: string | null;
  results: RolloutResult[];
}

interface StateRow {
  applied_hash: string | null;
  managed: string;
  applied_at: string | null;
  last_error: string | null;
}

const KEPT_ROLLOUTS = 20;

/**
 * Brings each instance's OpenClaw configuration in line with the stored model choice and keys:
 * at creation (files), when an admin changes something (a rollout over the affected instances), and
 * when an instance that missed a change connects again. What was applied is remembered by hash, with
 * the parts of openclaw.json Claworc owns, so later changes remove exactly what Claworc added.
 */
export class ModelSync {
  #lock = new KeyedLock<number>();
  #rollouts = new Map<string, Rollout>();
  #unsubscribe: (() => void) | null = null;

  constructor(
    private readonly d: {
      db: Database;
      store: ModelStore;
      agentConfig: AgentConfig;
      instances: Instances;
      audit: AuditLog;
      log: Logger;
    },
  ) {}

  /** What the instance should run: the managed parts of openclaw.json, the keys file, and their hash. */
  async target(id: number): Promise<{ managed: ManagedConfig; keys: Record<string, string>; hash: string }> {
    const { store } = this.d;
    const eff = effectiveModels(store.global(), store.instance(id), await store.keys(null), await store.keys(id));
    const managed = managedConfig(eff);
    const keys = Object.fromEntries(managed.keyIds.map((p) => [p, eff.keys[p]]));
    return { managed, keys, hash: configHash(JSON.stringify({ managed, keys })) };
  }

  /**
   * openclaw.json and the keys file for a new instance's `/run/claworc` (claworc-init installs them
   * only into a home that has none). With `fresh` (new volume) they are recorded as applied.
   */
  async filesForCreate(id: number, fresh: boolean): Promise<Record<string, string>> {
    const t = await this.target(id);
    const config = mergeManaged(JSON.parse(openclawConfig()), t.managed, []);
    if (fresh) this.#record(id, { applied_hash: t.hash, managed: t.managed.owned, error: null });
    return {
      "openclaw.json": JSON.stringify(config, null, 2) + "\n",
      "provider_keys.json": JSON.stringify(t.keys),
    };
  }

  async state(id: number): Promise<SyncState> {
    const row = this.#row(id);
    const t = await this.target(id);
    const applied = row?.applied_hash ? row.applied_hash === t.hash : t.managed.owned.length === 0;
    // A failure counts as such while the instance runs; a stopped one gets another try when it starts.
    const running = this.d.instances.find(id)?.status === "running";
    return {
      state: applied ? "applied" : row?.last_error && running ? "failed" : "pending",
      applied_at: row?.applied_at ?? null,
      last_error: applied ? null : row?.last_error ?? null,
    };
  }

  /**
   * Applies the instance's target now (it must be running): merge into its current openclaw.json,
   * validate, write, restart the gateway, wait for it. Returns false when it already had it.
   */
  apply(id: number, actor: AuditActor = SYSTEM_ACTOR, force = false): Promise<boolean> {
    return this.#lock.run(id, async () => {
      const t = await this.target(id);
      const row = this.#row(id);
      if (!force && (row?.applied_hash ? row.applied_hash === t.hash : t.managed.owned.length === 0)) return false;
      const inst = this.d.instances.get(id);
      try {
        const current = await this.d.agentConfig.read(id);
        const merged = mergeManaged(parseCurrent(current.content), t.managed, ownedOf(row));
        await this.d.agentConfig.apply(id, {
          config: JSON.stringify(merged, null, 2) + "\n",
          keys: t.keys,
          baseHash: current.hash,
        });
        this.#record(id, { applied_hash: t.hash, managed: t.managed.owned, error: null });
        this.d.audit.record({ actor, action: "models.apply", target: inst.name, instanceId: id });
        return true;
      } catch (e) {
        const message = (e as Error).message;
        this.#record(id, { applied_hash: row?.applied_hash ?? null, managed: ownedOf(row), error: message });
        this.d.audit.record({
          actor,
          action: "models.apply",
          target: inst.name,
          instanceId: id,
          outcome: "failure",
          details: { reason: message },
        });
        throw e;
      }
    });
  }

  /** Starts pushing the current choice to `ids` one by one; the rollout is followed with `rollout(id)`. */
  startRollout(ids: number[], reason: string, actor: AuditActor): Rollout {
    const rollout: Rollout = {
      id: crypto.randomUUID(),
      reason,
      state: "running",
      started_at: new Date().toISOString(),
      finished_at: null,
      results: ids.map((id) => ({
        instance_id: id,
        name: this.d.instances.get(id).name,
        state: "queued",
        error: null,
        duration_ms: null,
      })),
    };
    this.#rollouts.set(rollout.id, rollout);
    for (const old of [...this.#rollouts.keys()].slice(0, -KEPT_ROLLOUTS)) this.#rollouts.delete(old);
    this.#runRollout(rollout, actor).catch((e) => this.d.log.error("rollout failed", { error: String(e) }));
    return rollout;
  }

  rollout(id: string): Rollout {
    const r = this.#rollouts.get(id);
    if (!r) throw new AppError("NOT_FOUND", "No such rollout (only the last 20 are kept).");
    return r;
  }

  /**
   * Instances that missed a change get it when their SSH connection comes (back) up; while the
   * instance's lifecycle runs an action (a creation, a clone: `busy`), only after that action, so the
   * gateway is never restarted under a creation waiting for it.
   */
  watch(events: SshEvents, busy: (id: number) => boolean = () => false): void {
    this.#unsubscribe = events.subscribe((e) => {
      if (e.type !== "connected" && e.type !== "reconnected") return;
      if (this.#lock.busy(e.instance_id)) return;
      this.#applyWhenIdle(e.instance_id, busy).catch((err) =>
        this.d.log.warn("applying the model configuration failed", {
          instance: e.instance_id,
          error: (err as Error).message,
        })
      );
    });
  }

  async #applyWhenIdle(id: number, busy: (id: number) => boolean): Promise<void> {
    for (const deadline = Date.now() + 30 * 60_000; busy(id);) {
      if (Date.now() > deadline) return;
      await new Promise((r) => setTimeout(r, 2_000));
    }
    if (this.d.instances.find(id)?.status === "running") await this.apply(id);
  }

  close(): void {
    this.#unsubscribe?.();
  }

  async #runRollout(rollout: Rollout, actor: AuditActor): Promise<void> {
    for (const result of rollout.results) {
      const started = performance.now();
      const inst = this.d.instances.find(result.instance_id);
      if (!inst) {
        result.state = "failed";
        result.error = "The instance was deleted.";
        continue;
      }
      if (inst.status !== "running") {
        result.state = "waiting";
        continue;
      }
      result.state = "applying";
      try {
        result.state = (await this.apply(result.instance_id, actor)) ? "applied" : "unchanged";
      } catch (e) {
        result.state = "failed";
        result.error = (e as Error).message;
        const log = e instanceof AppError ? e.extra.gateway_log : undefined;
        if (typeof log === "string") result.gateway_log = log;
      }
      result.duration_ms = Math.round(performance.now() - started);
    }
    rollout.state = "done";
    rollout.finished_at = new Date().toISOString();
  }

  #row(id: number): StateRow | undefined {
    return this.d.db.get<StateRow>(
      "SELECT applied_hash, managed, applied_at, last_error FROM agent_config_state WHERE instance_id = ?",
      id,
    );
  }

  #record(id: number, s: { applied_hash: string | null; managed: string[]; error: string | null }): void {
    this.d.db.run(
      `INSERT INTO agent_config_state (instance_id, applied_hash, managed, applied_at, last_error) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (instance_id) DO UPDATE SET applied_hash = excluded.applied_hash, managed = excluded.managed,
         applied_at = COALESCE(excluded.applied_at, agent_config_state.applied_at), last_error = excluded.last_error`,
      id,
      s.applied_hash,
      JSON.stringify(s.managed),
      s.error === null ? new Date().toISOString() : null,
      s.error,
    );
  }
}

function ownedOf(row: StateRow | undefined): string[] {
  try {
    return row ? JSON.parse(row.managed) : [];
  } catch {
    return [];
  }
}

/** The instance's current openclaw.json as an object (an empty file counts as `{}`). */
function parseCurrent(content: string): Record<string, unknown> {
  if (!content.trim()) return {};
  try {
    const value = JSON.parse(content);
    if (value && typeof value === "object" && !Array.isArray(value)) return value;
  } catch { /* below */ }
  throw new AppError(
    "CONFIG_INVALID",
    "The instance's openclaw.json is not a plain JSON object (JSON5 comments?); fix it in the config editor first.",
  );
}
