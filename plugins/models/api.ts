import { z } from "zod";
import {
  actorOf,
  AppError,
  BUILTIN_IDS,
  BUILTIN_PROVIDERS,
  type CoreServices,
  customProvider,
  keysPatch,
  modelRef,
  numericParam,
  type Router,
} from "../../core/mod.ts";

export type ModelsServices = Pick<CoreServices, "models" | "modelSync" | "instances" | "audit">;

export const globalPatch = z.object({
  primary: modelRef.nullable().optional(),
  fallbacks: z.array(modelRef).max(10).optional(),
  custom_providers: z.array(customProvider).max(20).optional(),
  keys: keysPatch.optional(),
}).strict();

export const instancePatch = z.object({
  primary: modelRef.nullable().optional(),
  extra_models: z.array(modelRef).max(20).optional(),
  disabled_models: z.array(modelRef).max(50).optional(),
  keys: keysPatch.optional(),
}).strict();

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Keys may only be set for a built-in provider or one of the custom providers (any may be removed). */
function checkKeyProviders(keys: Record<string, unknown> | undefined, customIds: string[]): void {
  for (const [id, value] of Object.entries(keys ?? {})) {
    if (value !== null && !BUILTIN_IDS.has(id) && !customIds.includes(id)) {
      throw new AppError("VALIDATION_FAILED", `keys.${id}: no built-in or custom provider has this id.`);
    }
  }
}

/** What changed, for the audit entry: field names and key providers, never values. */
function auditDetails(body: Record<string, unknown>, changedKeys: string[]) {
  const { keys: _keys, ...rest } = body;
  return { fields: Object.keys(rest), keys_changed: changedKeys };
}

/** What `GET /api/v1/models` answers (also the page's first render). */
export async function globalView(s: ModelsServices) {
  return { ...s.models.global(), keys: await s.models.maskedKeys(null), providers: [...BUILTIN_PROVIDERS] };
}

/** What `GET /api/v1/instances/:id/models` answers (also the tab's first render). */
export async function instanceView(s: ModelsServices, id: number) {
  const t = await s.modelSync.target(id);
  const globalKeys = new Set((await s.models.maskedKeys(null)).map((k) => k.provider));
  const own = await s.models.maskedKeys(id);
  const ownIds = new Set(own.map((k) => k.provider));
  return {
    ...s.models.instance(id),
    keys: own,
    effective: {
      models: t.managed.model ? [t.managed.model.primary, ...t.managed.model.fallbacks] : [],
      keys: t.managed.keyIds.map((p) => ({
        provider: p,
        source: ownIds.has(p) ? "instance" as const : globalKeys.has(p) ? "global" as const : "" as const,
      })),
    },
    sync: await s.modelSync.state(id),
  };
}

/** `/api/v1/models`: the global model choice and provider keys (admin). */
export function addGlobalRoutes(r: Router, s: ModelsServices): void {
  const tags = ["models"];
  const view = () => globalView(s);
  r.add(
    { method: "GET", path: "", permission: "admin", summary: "Global models and keys (masked)", tags },
    async (c) => c.json(await view()),
  );
  r.add({
    method: "PUT",
    path: "",
    permission: "admin",
    summary: "Change global models and keys; pushed to every instance as a rollout",
    body: globalPatch,
    tags,
  }, async (c, { body }) => {
    const { keys, ...doc } = body;
    const before = s.models.global();
    const next = { ...before, ...doc };
    checkKeyProviders(keys, next.custom_providers.map((p) => p.id));
    s.models.saveGlobal(next);
    const changedKeys = keys ? await s.models.saveKeys(null, keys) : [];
    // A custom provider that is gone takes its keys with it, everywhere.
    for (const gone of before.custom_providers.filter((p) => !next.custom_providers.some((n) => n.id === p.id))) {
      if (s.models.forgetProvider(gone.id)) changedKeys.push(gone.id);
    }
    s.audit.record({
      actor: actorOf(c),
      action: "models.update",
      target: "global",
      details: auditDetails(body, changedKeys),
    });
    const rollout = s.modelSync.startRollout(s.instances.all().map((i) => i.id), "global models changed", actorOf(c));
    return c.json({ ...(await view()), rollout });
  });
  r.add({
    method: "GET",
    path: "/rollouts/:rolloutId",
    permission: "admin",
    summary: "Progress of a rollout: each instance's result",
    tags,
  }, (c) => {
    const id = c.req.param("rolloutId") ?? "";
    if (!UUID.test(id)) {
      throw new AppError("BAD_REQUEST", `Path parameter rolloutId must be a rollout id, not "${id}".`);
    }
    return c.json(s.modelSync.rollout(id));
  });
}

/** `/api/v1/instances/:id/models`: an instance's overrides (admin) and what it runs (assigned users too). */
export function addInstanceRoutes(r: Router, s: ModelsServices): void {
  const tags = ["models"];
  const view = (id: number) => instanceView(s, id);
  r.add({
    method: "GET",
    path: "",
    permission: "instance",
    summary: "The instance's model overrides, effective models and keys (masked) and whether they are applied",
    tags,
  }, async (c) => {
    const id = numericParam(c, "id");
    s.instances.get(id);
    return c.json(await view(id));
  });
  r.add({
    method: "PUT",
    path: "",
    permission: "admin",
    summary: "Change the instance's overrides; applied to it at once (or at its next start)",
    body: instancePatch,
    tags,
  }, async (c, { body }) => {
    const id = numericParam(c, "id");
    const inst = s.instances.get(id);
    const { keys, ...doc } = body;
    checkKeyProviders(keys, s.models.global().custom_providers.map((p) => p.id));
    s.models.saveInstance(id, { ...s.models.instance(id), ...doc });
    const changedKeys = keys ? await s.models.saveKeys(id, keys) : [];
    s.audit.record({
      actor: actorOf(c),
      action: "models.instance.update",
      target: inst.name,
      instanceId: id,
      details: auditDetails(body, changedKeys),
    });
    const rollout = s.modelSync.startRollout([id], "instance models changed", actorOf(c));
    return c.json({ ...(await view(id)), rollout });
  });
}
