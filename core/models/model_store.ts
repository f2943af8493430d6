import { AppError } from "../errors.ts";
import type { Database } from "../db/database.ts";
import { maskSecret, type Secrets } from "../secrets/secrets.ts";
import {
  emptyGlobal,
  emptyInstance,
  type GlobalModels,
  globalModels,
  type InstanceModels,
  instanceModels,
  type KeysPatch,
} from "./schemas.ts";

/** A stored key as the API shows it. */
export interface MaskedKey {
  provider: string;
  masked: string;
  updated_at: string;
}

/**
 * The model choice and provider keys, global and per instance, in SQLite. Keys are stored as
 * ciphertext from the secrets service and leave this class in clear only through `keys()`, which
 * the code writing them into an instance calls; everything else sees them masked.
 */
export class ModelStore {
  constructor(private readonly db: Database, private readonly secrets: Secrets) {}

  global(): GlobalModels {
    return this.#doc(null, globalModels, emptyGlobal);
  }

  instance(id: number): InstanceModels {
    return this.#doc(id, instanceModels, emptyInstance);
  }

  saveGlobal(doc: GlobalModels): void {
    this.#save(null, globalModels.parse(doc));
  }

  saveInstance(id: number, doc: InstanceModels): void {
    this.#save(id, instanceModels.parse(doc));
  }

  /** Sets and removes keys of one scope (null = global) in one transaction; returns the providers changed. */
  async saveKeys(instanceId: number | null, patch: KeysPatch): Promise<string[]> {
    const sealed: [string, string | null][] = [];
    for (const [provider, value] of Object.entries(patch)) {
      sealed.push([provider, value === null ? null : await this.secrets.encrypt(value)]);
    }
    const now = new Date().toISOString();
    const changed: string[] = [];
    this.db.transaction(() => {
      for (const [provider, token] of sealed) {
        const removed = this.db.run(
          `DELETE FROM provider_keys WHERE ${scope(instanceId)} AND provider = ?`,
          ...scopeArgs(instanceId),
          provider,
        ).changes;
        if (token !== null) {
          this.db.run(
            "INSERT INTO provider_keys (instance_id, provider, token, updated_at) VALUES (?, ?, ?, ?)",
            instanceId,
            provider,
            token,
            now,
          );
        }
        if (token !== null || removed) changed.push(provider);
      }
    });
    return changed;
  }

  /** Removes a provider's keys from every scope (its custom provider is gone); true when there were some. */
  forgetProvider(provider: string): boolean {
    return this.db.run("DELETE FROM provider_keys WHERE provider = ?", provider).changes > 0;
  }

  /** Keys of one scope, masked. */
  async maskedKeys(instanceId: number | null): Promise<MaskedKey[]> {
    const out: MaskedKey[] = [];
    for (const row of this.#keyRows(instanceId)) {
      const masked = await this.secrets.decrypt(row.token).then(maskSecret, () => "(unreadable)");
      out.push({ provider: row.provider, masked, updated_at: row.updated_at });
    }
    return out;
  }

  /** Keys of one scope in clear, for writing into an instance. */
  async keys(instanceId: number | null): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const row of this.#keyRows(instanceId)) out[row.provider] = await this.secrets.decrypt(row.token);
    return out;
  }

  #keyRows(instanceId: number | null) {
    return this.db.all<{ provider: string; token: string; updated_at: string }>(
      `SELECT provider, token, updated_at FROM provider_keys WHERE ${scope(instanceId)} ORDER BY provider`,
      ...scopeArgs(instanceId),
    );
  }

  #doc<T>(instanceId: number | null, schema: { parse(v: unknown): T }, empty: T): T {
    const row = this.db.get<{ doc: string }>(
      `SELECT doc FROM model_config WHERE ${scope(instanceId)}`,
      ...scopeArgs(instanceId),
    );
    if (!row) return structuredClone(empty);
    try {
      return schema.parse(JSON.parse(row.doc));
    } catch {
      throw new AppError("INTERNAL", "The stored model configuration is unreadable.");
    }
  }

  #save(instanceId: number | null, doc: unknown): void {
    this.db.transaction(() => {
      this.db.run(`DELETE FROM model_config WHERE ${scope(instanceId)}`, ...scopeArgs(instanceId));
      this.db.run(
        "INSERT INTO model_config (instance_id, doc, updated_at) VALUES (?, ?, ?)",
        instanceId,
        JSON.stringify(doc),
        new Date().toISOString(),
      );
    });
  }
}

const scope = (instanceId: number | null) => instanceId === null ? "instance_id IS NULL" : "instance_id = ?";
const scopeArgs = (instanceId: number | null) => instanceId === null ? [] : [instanceId];
