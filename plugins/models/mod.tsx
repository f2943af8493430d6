import { BUILTIN_PROVIDERS, definePlugin, Island } from "../../core/mod.ts";
import { addGlobalRoutes, addInstanceRoutes, globalView, instanceView } from "./api.ts";
import InstanceModels, { type InstanceModelsProps } from "./islands/instance_models.tsx";
import ModelsAdmin from "./islands/models_admin.tsx";

/**
 * Models and API keys: the global default model list and provider keys (admin), per-instance
 * overrides, and their rollout into each instance's OpenClaw (core's `modelSync`). Keys are only
 * ever shown masked; audit entries name what changed, never a value. The dashboard gets the
 * "Models & keys" page (admin) and each instance's Models tab (read-only for non-admins).
 */
export function modelsPlugin() {
  return definePlugin({
    name: "models",
    needs: ["models", "modelSync", "instances", "audit"],
    setup(ctx) {
      const s = ctx.services;
      addGlobalRoutes(ctx.api("/models"), s);
      addInstanceRoutes(ctx.api("/instances/:id/models"), s);
      ctx.page({
        path: "/models",
        title: "Models & keys",
        permission: "admin",
        // After the instances dashboard (10), before Users (50) and the audit log (60).
        nav: { label: "Models", order: 40 },
        render: async () => (
          <Island name="models_admin" component={ModelsAdmin} props={{ initial: await globalView(s) }} />
        ),
      });
      ctx.instanceTab({
        path: "models",
        title: "Models",
        order: 70,
        render: async (_c, user, instanceId) => {
          const isAdmin = user.role === "admin";
          const g = s.models.global();
          const providers: InstanceModelsProps["providers"] = [
            ...BUILTIN_PROVIDERS.map((p) => ({ id: p.id, label: p.label, kind: p.kind })),
            ...g.custom_providers.map((c) => ({ id: c.id, label: c.label || c.id, kind: "custom" as const })),
          ];
          const props: InstanceModelsProps = {
            instanceId,
            isAdmin,
            initial: await instanceView(s, instanceId),
            providers,
            // The global choice and keys (masked) only for those who may change the overrides.
            global: isAdmin
              ? {
                primary: g.primary,
                fallbacks: g.fallbacks,
                keys: await s.models.maskedKeys(null),
                suggestions: [
                  ...BUILTIN_PROVIDERS.flatMap((p) => (p.example ? [p.example] : [])),
                  ...g.custom_providers.flatMap((c) => c.models.map((m) => `${c.id}/${m}`)),
                ],
              }
              : null,
          };
          return <Island name="instance_models" component={InstanceModels} props={props} />;
        },
      });
    },
  });
}
