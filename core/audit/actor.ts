import type { Context } from "hono";
import type { AppEnv } from "../http/env.ts";
import type { AuditActor } from "./audit_log.ts";

/** The audit actor for the current request: the signed-in user (or "anonymous") and the client IP. */
export function actorOf(c: Context<AppEnv>, fallbackName = "anonymous"): AuditActor {
  const user = c.get("user");
  return { id: user?.id ?? null, name: user?.username ?? fallbackName, ip: c.get("clientIp") };
}
