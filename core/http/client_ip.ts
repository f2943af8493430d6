import type { Context } from "hono";
import type { AppEnv } from "./env.ts";

/** The client's IP: the socket peer, or the first X-Forwarded-For hop when a trusted proxy is configured. */
export function clientIp(c: Context<AppEnv>, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = c.req.header("x-forwarded-for")?.split(",")[0]?.trim();
    if (forwarded && forwarded.length <= 64) return forwarded;
  }
  return c.env?.remoteAddr?.hostname ?? "unknown";
}
