/** Shapes of the models API (`plugins/models/api.ts`) as the islands read them. */

export interface ProviderInfo {
  id: string;
  label: string;
  /** `model`: a model provider; `search`: the web-search tool's key. */
  kind: "model" | "search";
  example?: string;
}

export interface CustomProvider {
  id: string;
  label: string;
  base_url: string;
  models: string[];
}

/** A stored key as the API shows it: never the value, only its last characters. */
export interface MaskedKey {
  provider: string;
  masked: string;
  updated_at: string;
}

/** `GET /api/v1/models`. */
export interface GlobalView {
  primary: string | null;
  fallbacks: string[];
  custom_providers: CustomProvider[];
  keys: MaskedKey[];
  providers: ProviderInfo[];
}

export type RolloutResultState = "queued" | "applying" | "applied" | "unchanged" | "waiting" | "failed";

export interface RolloutResult {
  instance_id: number;
  name: string;
  state: RolloutResultState;
  error: string | null;
  duration_ms: number | null;
  /** The end of the agent gateway's log when it did not come back with the change. */
  gateway_log?: string;
}

export interface Rollout {
  id: string;
  reason: string;
  state: "running" | "done";
  started_at?: string;
  finished_at?: string | null;
  results: RolloutResult[];
}

export interface SyncState {
  state: "applied" | "pending" | "failed";
  applied_at: string | null;
  last_error: string | null;
}

/** `GET /api/v1/instances/:id/models`. */
export interface InstanceView {
  primary: string | null;
  extra_models: string[];
  disabled_models: string[];
  /** The instance's own keys (overrides), masked. */
  keys: MaskedKey[];
  effective: {
    models: string[];
    keys: { provider: string; source: "instance" | "global" | "" }[];
  };
  sync: SyncState;
}

/** A key patch: a new key by provider, or null to remove it. */
export type KeysPatch = Record<string, string | null>;

/** Model ids typed as a list: separated by commas, line breaks or spaces; empty entries dropped. */
export function splitList(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean))];
}

export function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The same provider with its fields in one order, so two lists compare by their JSON. */
export function normalizeCustom(p: CustomProvider): CustomProvider {
  return { id: p.id, label: p.label ?? "", base_url: p.base_url, models: [...p.models] };
}

export function sameCustoms(a: readonly CustomProvider[], b: readonly CustomProvider[]): boolean {
  return JSON.stringify(a.map(normalizeCustom)) === JSON.stringify(b.map(normalizeCustom));
}

/** The message a form shows after saving (or failing to). */
export type Flash = { ok: boolean; text: string } | null;
