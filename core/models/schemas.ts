import { z } from "zod";
import { BUILTIN_IDS } from "./catalog.ts";

/** A provider id as OpenClaw accepts it (also a JSON-pointer segment needing no escaping). */
export const providerId = z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/, "lower-case letters, digits, - and _");

/** `provider/model`, e.g. `anthropic/claude-sonnet-4-5` or `openrouter/meta/llama-3`. */
export const modelRef = z.string().max(200).regex(
  /^[a-z][a-z0-9_-]{0,63}\/[A-Za-z0-9][A-Za-z0-9._:/@+-]*$/,
  "a model reference like provider/model",
);

/** A model id inside a custom provider. */
export const modelId = z.string().max(150).regex(/^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$/, "a model id");

/** An API key: printable, no spaces. `null` in a patch removes it. */
export const apiKey = z.string().min(1).max(4096).regex(/^[\x21-\x7e]+$/, "printable characters without spaces");

const httpUrl = z.string().max(2048).url().refine((u) => /^https?:\/\//.test(u), "an http or https URL");

/** An OpenAI-compatible endpoint the admin adds (base URL, key, model ids). */
export const customProvider = z.object({
  id: providerId.refine((id) => !BUILTIN_IDS.has(id) && id !== "claworc", "a name not used by a built-in provider"),
  label: z.string().max(100).default(""),
  base_url: httpUrl,
  models: z.array(modelId).min(1).max(50),
}).strict();
export type CustomProvider = z.infer<typeof customProvider>;

const uniqueBy = <T>(key: (t: T) => string) => (list: T[]) => new Set(list.map(key)).size === list.length;

/** What every instance gets unless it overrides it (secrets apart). */
export const globalModels = z.object({
  primary: modelRef.nullable(),
  fallbacks: z.array(modelRef).max(10),
  custom_providers: z.array(customProvider).max(20).refine(
    uniqueBy((p: CustomProvider) => p.id),
    "provider ids must be unique",
  ),
}).strict();
export type GlobalModels = z.infer<typeof globalModels>;

/** One instance's changes to the global choice (secrets apart). */
export const instanceModels = z.object({
  /** Its own default model; null follows the global one. */
  primary: modelRef.nullable(),
  /** Models added after the global fallbacks. */
  extra_models: z.array(modelRef).max(20),
  /** Global models this instance must not use. */
  disabled_models: z.array(modelRef).max(50),
}).strict();
export type InstanceModels = z.infer<typeof instanceModels>;

/** Keys to set (a string) or remove (null), by provider id. */
export const keysPatch = z.record(providerId, apiKey.nullable()).refine(
  (r) => Object.keys(r).length <= 40,
  "at most 40 keys",
);
export type KeysPatch = z.infer<typeof keysPatch>;

export const emptyGlobal: GlobalModels = { primary: null, fallbacks: [], custom_providers: [] };
export const emptyInstance: InstanceModels = { primary: null, extra_models: [], disabled_models: [] };
