import type { SessionUser } from "../auth/sessions.ts";

/** What Deno.serve passes as Hono's `env` (the connection info). */
export interface ServeBindings {
  remoteAddr?: { hostname?: string };
}

/** Per-request values set by core middleware. */
export interface RequestVariables {
  user: SessionUser | undefined;
  sessionToken: string | undefined;
  clientIp: string;
  /** The request carried the configured metrics token (`Authorization: Bearer ...`). */
  metricsToken: boolean;
}

/** The Hono environment every core and plugin route uses. */
export type AppEnv = { Bindings: ServeBindings; Variables: RequestVariables };
