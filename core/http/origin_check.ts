import type { MiddlewareHandler } from "hono";
import { AppError } from "../errors.ts";
import type { AppEnv } from "./env.ts";

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Refuses cross-site state changes and WebSocket upgrades. With configured origins the request's
 * Origin must be one of them; without, it must equal the origin the request was addressed to (Host).
 * Requests with neither Origin nor Sec-Fetch-Site come from non-browser clients (scripts, curl),
 * which cannot carry a victim's cookies, so they pass; browsers always send one of the two.
 */
export function originCheck(allowedOrigins: readonly string[]): MiddlewareHandler<AppEnv> {
  const allowed = new Set(allowedOrigins);
  return function checkOrigin(c, next) {
    const upgrade = c.req.header("upgrade")?.toLowerCase() === "websocket";
    if (SAFE.has(c.req.method) && !upgrade) return next();
    const origin = c.req.header("origin");
    if (origin === undefined) {
      if (c.req.header("sec-fetch-site") === "cross-site") throw rejected("(none, cross-site)");
      return next();
    }
    if (!isAllowed(origin, allowed, c.req.url, c.req.header("host") ?? new URL(c.req.url).host)) throw rejected(origin);
    return next();
  };
}

function isAllowed(origin: string, allowed: Set<string>, url: string, host: string | undefined): boolean {
  if (allowed.size > 0) return allowed.has(origin);
  if (origin === "null" || !host) return false;
  try {
    const o = new URL(origin);
    return o.host === host && o.protocol === new URL(url).protocol;
  } catch {
    return false;
  }
}

function rejected(origin: string): AppError {
  return new AppError("ORIGIN_REJECTED", `Cross-site request refused: origin ${origin} is not allowed.`);
}
