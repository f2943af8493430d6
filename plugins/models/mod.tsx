import { definePlugin } from "../../core/mod.ts";
import { addGlobalRoutes, addInstanceRoutes } from "./api.ts";

/**
 * Models and API keys: the global default model list and provider keys (admin), per-instance
 * overrides, and their rollout into each instance's OpenClaw (core's `modelSync`). Keys are only
 * ever shown masked; audit entries name what changed, never a value.
 */
export function modelsPlugin() {
  return definePlugin({
    name: "models",
    needs: ["models", "modelSync", "instances", "audit"],
    setup(ctx) {
      addGlobalRoutes(ctx.api("/models"), ctx.services);
      addInstanceRoutes(ctx.api("/instances/:id/models"), ctx.services);
    },
  });
}
