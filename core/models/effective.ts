import { KEYS_FILE } from "../openclaw/agent_config.ts";
import { BUILTIN_PROVIDERS } from "./catalog.ts";
import type { GlobalModels, InstanceModels } from "./schemas.ts";

/** The name of the SecretRef provider Claworc adds to OpenClaw's `secrets.providers`. */
export const SECRET_PROVIDER = "claworc";

/** What one instance should run with: the model order and the keys by provider. */
export interface EffectiveModels {
  /** Default model first, then fallbacks; empty = Claworc leaves the agent's model choice alone. */
  models: string[];
  keys: Record<string, string>;
  custom: GlobalModels["custom_providers"];
}

/** Global choice + instance override: the instance's default and keys win, disabled models are dropped. */
export function effectiveModels(
  global: GlobalModels,
  inst: InstanceModels,
  globalKeys: Record<string, string>,
  instanceKeys: Record<string, string>,
): EffectiveModels {
  const disabled = new Set(inst.disabled_models);
  const order = [inst.primary, global.primary, ...global.fallbacks, ...inst.extra_models]
    .filter((m): m is string => m !== null && !disabled.has(m));
  return {
    models: [...new Set(order)],
    keys: { ...globalKeys, ...instanceKeys },
    custom: global.custom_providers,
  };
}

/** The parts of openclaw.json Claworc writes, and the names of what it owns (to remove it later). */
export interface ManagedConfig {
  providers: Record<string, Record<string, unknown>>;
  model: { primary: string; fallbacks: string[] } | null;
  searchKey: boolean;
  /** Providers whose key the keys file must hold (each is a SecretRef `/<id>`). */
  keyIds: string[];
  /** What this config owns: `provider:<id>`, `model`, `search`, `secrets`. */
  owned: string[];
}

const ref = (provider: string) => ({ source: "file", provider: SECRET_PROVIDER, id: `/${provider}` });

/** OpenClaw settings for the effective choice: keys only ever as SecretRefs into the keys file. */
export function managedConfig(eff: EffectiveModels): ManagedConfig {
  const providers: ManagedConfig["providers"] = {};
  for (const p of BUILTIN_PROVIDERS) {
    if (p.kind === "model" && eff.keys[p.id]) providers[p.id] = { apiKey: ref(p.id) };
  }
  for (const c of eff.custom) {
    providers[c.id] = {
      baseUrl: c.base_url,
      api: "openai-completions",
      ...(eff.keys[c.id] ? { apiKey: ref(c.id) } : {}),
      models: c.models.map((id) => ({ id, name: id })),
    };
  }
  const model = eff.models.length ? { primary: eff.models[0], fallbacks: eff.models.slice(1) } : null;
  const searchKey = Boolean(eff.keys.brave);
  const keyIds = [
    ...Object.keys(providers).filter((id) => eff.keys[id]),
    ...(searchKey ? ["brave"] : []),
  ];
  const owned = [
    ...Object.keys(providers).map((id) => `provider:${id}`),
    ...(model ? ["model"] : []),
    ...(searchKey ? ["search"] : []),
    ...(keyIds.length ? ["secrets"] : []),
  ];
  return { providers, model, searchKey, keyIds, owned };
}

type Json = Record<string, unknown>;

/** The object at `path` under `root`, created when missing (a non-object there is replaced). */
function at(root: Json, path: string[]): Json {
  let node = root;
  for (const key of path) {
    const next = node[key];
    if (!next || typeof next !== "object" || Array.isArray(next)) node[key] = {};
    node = node[key] as Json;
  }
  return node;
}

/** Removes `path`'s last key, then any objects left empty on the way up. */
function drop(root: Json, path: string[]): void {
  const trail: Json[] = [root];
  for (const key of path.slice(0, -1)) {
    const next = trail.at(-1)![key];
    if (!next || typeof next !== "object") return;
    trail.push(next as Json);
  }
  delete trail.at(-1)![path.at(-1)!];
  for (let i = trail.length - 1; i > 0; i--) {
    if (Object.keys(trail[i]).length) break;
    delete trail[i - 1][path[i - 1]];
  }
}

/**
 * The instance's openclaw.json with Claworc's parts replaced: what it owned before and no longer
 * does is removed, everything else (the agent's or an editor's own settings) is kept as it is.
 */
export function mergeManaged(current: Json, managed: ManagedConfig, ownedBefore: string[]): Json {
  const next = structuredClone(current);
  const owns = new Set(managed.owned);
  for (const item of ownedBefore) {
    if (owns.has(item)) continue;
    if (item.startsWith("provider:")) drop(next, ["models", "providers", item.slice(9)]);
    if (item === "model") drop(next, ["agents", "defaults", "model"]);
    if (item === "search") drop(next, ["plugins", "entries", "brave", "config", "webSearch", "apiKey"]);
    if (item === "secrets") drop(next, ["secrets", "providers", SECRET_PROVIDER]);
  }
  for (const [id, entry] of Object.entries(managed.providers)) at(next, ["models", "providers"])[id] = entry;
  if (managed.model) at(next, ["agents", "defaults"]).model = managed.model;
  if (managed.searchKey) at(next, ["plugins", "entries", "brave", "config", "webSearch"]).apiKey = ref("brave");
  if (owns.has("secrets")) {
    at(next, ["secrets", "providers"])[SECRET_PROVIDER] = { source: "file", path: KEYS_FILE, mode: "json" };
  }
  return next;
}
