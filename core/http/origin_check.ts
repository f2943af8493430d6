import type { MiddlewareHandler } from "hono";
import { AppError } from "../errors.ts";
import type { AppEnv } from "./env.ts";
import { requestOrigin } from "./request_origin.ts";

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

export interface OriginPolicy {
  /** Origins always allowed (the public URL's and the extra ones). */
  allowed: readonly string[];
  /** Also allow the origin the request was addressed to (when no public URL pins one). */
  sameOrigin: boolean;
  /** Take the scheme of the request's own origin from `X-Forwarded-Proto`. */
  trustProxy: boolean;
}

/**
 * Refuses cross-site state changes and WebSocket upgrades: the request's Origin must be an allowed
 * one or, without a public URL, the origin the request was addressed to (Host). Requests with neither
 * Origin nor Sec-Fetch-Site come from non-browser clients (scripts, curl), which cannot carry a
 * victim's cookies, so they pass; browsers always send one of the two.
 */
export function originCheck(policy: OriginPolicy): MiddlewareHandler<AppEnv> {
  const allowed = new Set(policy.allowed);
  return function checkOrigin(c, next) {
    const upgrade = c.req.header("upgrade")?.toLowerCase() === "websocket";
    if (SAFE.has(c.req.method) && !upgrade) return next();
    const origin = c.req.header("origin");
    if (origin === undefined) {
      if (c.req.header("sec-fetch-site") === "cross-site") throw rejected("(none, cross-site)");
      return next();
    }
    const ok = allowed.has(origin) ||
      (policy.sameOrigin && origin !== "null" && origin === requestOrigin(c, policy.trustProxy));
    if (!ok) throw rejected(origin);
    return next();
  };
}

function rejected(origin: string): AppError {
  return new AppError("ORIGIN_REJECTED", `Cross-site request refused: origin ${origin} is not allowed.`);
}
