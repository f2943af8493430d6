import { z } from "zod";
import type { RouteInfo } from "./router.ts";

const ERROR_SCHEMA = {
  type: "object",
  properties: { detail: { type: "string" }, code: { type: "string" } },
  required: ["detail", "code"],
};

function jsonSchema(schema: z.ZodType, io: "input" | "output" = "input"): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Record<string, unknown>;
  return rest;
}

/** An OpenAPI 3.1 document built from the same route specs and zod schemas that validate requests. */
export function buildOpenApi(routes: readonly RouteInfo[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    if (!r.path.startsWith("/api/") && r.path !== "/health") continue;
    const path = r.path.replace(/:(\w+)/g, "{$1}");
    const parameters: Record<string, unknown>[] = [...path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: "path",
      required: true,
      schema: { type: "integer", minimum: 1 },
    }));
    if (r.query) {
      const q = jsonSchema(r.query) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, schema] of Object.entries(q.properties ?? {})) {
        parameters.push({ name, in: "query", required: q.required?.includes(name) ?? false, schema });
      }
    }
    (paths[path] ??= {})[r.method.toLowerCase()] = {
      summary: r.summary,
      tags: r.tags ?? (r.plugin ? [r.plugin] : undefined),
      "x-permission": r.permission,
      "x-kind": r.kind,
      ...(parameters.length ? { parameters } : {}),
      ...(r.body
        ? { requestBody: { required: true, content: { "application/json": { schema: jsonSchema(r.body) } } } }
        : {}),
      responses: {
        [String(r.status ?? 200)]: { description: "Success" },
        default: {
          description: "Error",
          content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
        },
      },
    };
  }
  return {
    openapi: "3.1.0",
    info: { title: "Claworc API", version },
    paths,
    components: {
      schemas: { Error: ERROR_SCHEMA },
      securitySchemes: { session: { type: "apiKey", in: "cookie", name: "claworc_session" } },
    },
    security: [{ session: [] }],
  };
}
