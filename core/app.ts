import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { matchedRoutes } from "hono/route";
import { AppError } from "./errors.ts";
import type { AppEnv } from "./http/env.ts";
import { errorHandler, type ErrorPage, errorResponse, notFoundHandler } from "./http/error_handler.ts";
import { originCheck } from "./http/origin_check.ts";
import { Router, RouteRegistry } from "./http/router.ts";
import { securityHeaders } from "./http/security_headers.ts";
import { clientIp } from "./http/client_ip.ts";
import { readSessionCookie } from "./http/session_cookie.ts";
import { bearerMatches } from "./http/bearer.ts";
import { countRequests } from "./http/request_metrics.ts";
import { PluginHost } from "./plugins/host.ts";
import type { Plugin } from "./plugins/contract.ts";
import type { CoreServices } from "./services.ts";

/** What the composition root supplies: core's own route modules and the plugins, in load order. */
export interface AppParts {
  /** Registers core API routes and pages on the root router (after plugins are set up). */
  routes: (root: Router, services: CoreServices, host: PluginHost) => void;
  plugins: readonly Plugin[];
  /** The HTML page for errors on page requests (404, 403...). */
  errorPage: (host: PluginHost) => ErrorPage;
}

/** The assembled application. */
export interface ClaworcApp {
  app: Hono<AppEnv>;
  registry: RouteRegistry;
  host: PluginHost;
  services: CoreServices;
}

/**
 * Builds the Hono app: global middleware (headers, client IP + session, Origin check, body cap),
 * then plugin routes, then core routes. Every route goes through a Router, so each has a policy.
 */
export async function createApp(services: CoreServices, parts: AppParts): Promise<ClaworcApp> {
  const { config, sessions, users } = services;
  const app = new Hono<AppEnv>();
  const registry = new RouteRegistry();
  // Hono answers HEAD by running the GET handler and dropping its body unread and uncancelled, so a
  // streamed body never learns that nobody will read it: an SSE handler keeps its SSH channel or bus
  // listener, a download its SFTP channel, a recording its open file. Cancelling it runs their clean-up.
  app.use(async function cancelHeadBody(c, next) {
    await next();
    if (c.req.method === "HEAD") await c.res.body?.cancel().catch(() => {});
  });
  app.use(securityHeaders());
  app.use(async function identifyCaller(c, next) {
    c.set("clientIp", clientIp(c, config.trustProxy));
    const token = readSessionCookie(c);
    c.set("sessionToken", token);
    c.set("user", token ? sessions.resolve(token) : undefined);
    c.set("metricsToken", bearerMatches(c.req.header("authorization"), config.metricsToken));
    await next();
  });
  app.use(countRequests(services.requestCounts));
  app.use(originCheck({
    allowed: config.allowedOrigins,
    sameOrigin: config.publicUrl === null,
    trustProxy: config.trustProxy,
  }));
  const jsonBodyLimit = bodyLimit({
    maxSize: config.maxBodyBytes,
    onError: (c) =>
      errorResponse(
        c as never,
        new AppError("PAYLOAD_TOO_LARGE", `The request body is larger than ${config.maxBodyBytes} bytes.`),
      ),
  });
  // Every API body is capped, except on routes that stream their body under their own cap (uploads).
  app.use("/api/*", function limitBody(c, next) {
    const raw = matchedRoutes(c).some((r) => registry.find(r.method, r.path)?.rawBody);
    return raw ? next() : jsonBodyLimit(c, next);
  });
  // A signed-in user refused by a route's permission is audited (anonymous 401s are not: they are noise).
  const root = new Router(
    app,
    registry,
    (user, id) => users.canAccessInstance(user, id),
    "",
    null,
    (c, user, route) =>
      services.audit.record({
        actor: { id: user.id, name: user.username, ip: c.get("clientIp") },
        action: "access.denied",
        target: `${route.method} ${route.path}`,
        outcome: "denied",
        instanceId: route.permission === "instance" ? Number(c.req.param("id")) || null : null,
        details: { permission: route.permission, role: user.role },
      }),
  );
  const host = new PluginHost(services, root.scope("/api/v1"));
  const errorPage = parts.errorPage(host);
  app.onError(errorHandler(services.log, errorPage));
  app.notFound(notFoundHandler(errorPage));
  await host.setup(parts.plugins);
  parts.routes(root, services, host);
  return { app, registry, host, services };
}
