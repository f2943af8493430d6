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

/** Keys may only be given for a built-in provider or one of the custom providers. */
function checkKeyProviders(keys: Record<string, unknown> | undefined, customIds: string[]): void {
  for (const id of Object.keys(keys ?? {})) {
    if (!BUILTIN_IDS.has(id) && !customIds.includes(id)) {
      throw new AppError("VALIDATION_FAILED", `keys.${id}: no built-in or custom provider has this id.`);
    }
  }
}

/** What changed, for the audit entry: field names and key providers, never values. */
function auditDetails(body: Record<string, unknown>, changedKeys: string[]) {
  const { keys: _keys, ...rest } = body;
  return { fields: Object.keys(rest), keys_changed: changedKeys };
}

/** `/api/v1/models`: the global model choice and provider keys (admin). */
export function addGlobalRoutes(r: Router, s: ModelsServices): void {
  const tags = ["models"];
  const view = async () => ({
    ...s.models.global(),
    keys: await s.models.maskedKeys(null),
    providers: BUILTIN_PROVIDERS,
  });
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
    const next = { ...s.models.global(), ...doc };
    checkKeyProviders(keys, next.custom_providers.map((p) => p.id));
    s.models.saveGlobal(next);
    const changedKeys = keys ? await s.models.saveKeys(null, keys) : [];
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
    path: "/rollouts/:rid",
    permission: "admin",
    summary: "Progress of a rollout: each instance's result",
    tags,
  }, (c) => c.json(s.modelSync.rollout(c.req.param("rid") ?? "")));
}

/** `/api/v1/instances/:id/models`: an instance's overrides (admin) and what it runs (assigned users too). */
export function addInstanceRoutes(r: Router, s: ModelsServices): void {
  const tags = ["models"];
  const view = async (id: number) => {
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
          source: ownIds.has(p) ? "instance" : globalKeys.has(p) ? "global" : "",
        })),
      },
      sync: await s.modelSync.state(id),
    };
  };
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
