import type { Context } from "hono";
import type { AppEnv } from "./env.ts";

/**
 * The client's IP: the socket peer, or, behind a trusted proxy, the last X-Forwarded-For entry (the one
 * our proxy appended; earlier entries are whatever the client chose to send).
 */
export function clientIp(c: Context<AppEnv>, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = c.req.header("x-forwarded-for")?.split(",").at(-1)?.trim();
    if (forwarded && forwarded.length <= 64) return forwarded;
  }
  return c.env?.remoteAddr?.hostname ?? "unknown";
}
