import type { Router } from "../../core/http/router.ts";
import { buildOpenApi } from "../../core/http/openapi.ts";
import type { PluginHost } from "../../core/plugins/host.ts";
import type { CoreServices } from "../../core/services.ts";
import { VERSION } from "../../core/version.ts";

/** `/health` (no auth) and `/api/v1/openapi.json`. */
export function systemRoutes(root: Router, s: CoreServices, host: PluginHost): void {
  root.add({
    method: "GET",
    path: "/health",
    permission: "public",
    summary: "Liveness: database and runtime backend",
    tags: ["system"],
  }, async (c) => {
    const database = s.db.healthy() ? "ok" : "error";
    const checks: Record<string, boolean> = {};
    for (const [name, check] of host.healthChecks) {
      checks[name] = await Promise.resolve().then(check).catch(() => false);
    }
    const healthy = database === "ok" && Object.values(checks).every(Boolean);
    return c.json({
      status: healthy ? "healthy" : "unhealthy",
      database,
      backend: s.runtime.backend?.name ?? "none",
      version: VERSION,
      checks,
    }, healthy ? 200 : 503);
  });
  root.add({
    method: "GET",
    path: "/api/v1/engine",
    permission: "admin",
    summary: "The runtime backend: where it is, whether it answers, containers it has that no instance owns",
    tags: ["system"],
  }, async (c) => {
    const backend = s.runtime.backend;
    return c.json({
      backend: backend?.name ?? "none",
      location: backend?.location ?? null,
      available: backend ? await backend.available() : false,
      orphans: s.lifecycle.orphans().map((o) => ({ name: o.name, instance_id: o.instanceId, status: o.state.status })),
    });
  });
  root.add({
    method: "GET",
    path: "/api/v1/openapi.json",
    permission: "public",
    summary: "This API as an OpenAPI 3.1 document",
    tags: ["system"],
  }, (c) => c.json(buildOpenApi(root.registry.routes, VERSION)));
}
