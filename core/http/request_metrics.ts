import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./env.ts";

/** HTTP requests answered since start, by method and status class ("GET 2xx"), for GET /metrics. */
export type RequestCounts = Map<string, number>;

/** Counts every answered request (methods outside the usual set are counted as OTHER). */
export function countRequests(counts: RequestCounts): MiddlewareHandler<AppEnv> {
  const methods = new Set(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]);
  return async function countRequest(c, next) {
    await next();
    const method = methods.has(c.req.method) ? c.req.method : "OTHER";
    const key = `${method} ${Math.floor(c.res.status / 100)}xx`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  };
}
