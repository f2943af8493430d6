import type { Context, Hono } from "hono";
import type { z } from "zod";
import type { SessionUser } from "../auth/sessions.ts";
import type { AppEnv } from "./env.ts";
import { authorize, type InstanceAccess, parseId, type Permission } from "./policy.ts";
import { readJson, validate } from "./validation.ts";
import { AppError } from "../errors.ts";

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** How a route answers, for docs and for the authorization matrix (pages redirect instead of 401). */
export type RouteKind = "api" | "page" | "stream" | "websocket";

/** Everything known about a route: it drives authorization, validation and the OpenAPI document. */
export interface RouteSpec<B extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined> {
  method: Method;
  /** Path relative to the router's prefix, Hono syntax (`/:id`). */
  path: string;
  permission: Permission;
  summary: string;
  kind?: RouteKind;
  body?: B;
  query?: Q;
  /** Response status on success, for the docs (default 200). */
  status?: number;
  /** The handler streams the raw body under its own size cap (uploads); the global JSON body cap skips it. */
  rawBody?: boolean;
  tags?: string[];
}

/** A registered route, with its full path. */
export interface RouteInfo extends Omit<RouteSpec<z.ZodType | undefined, z.ZodType | undefined>, "path"> {
  path: string;
  plugin: string | null;
}

type Infer<S> = S extends z.ZodType ? z.infer<S> : undefined;

/** What a handler gets besides Hono's context: validated input and the caller. */
export interface RouteInput<B, Q> {
  body: B;
  query: Q;
  /** The signed-in user (undefined only on `public` routes). */
  user: SessionUser;
}

export type RouteHandler<B, Q> = (c: Context<AppEnv>, input: RouteInput<B, Q>) => Response | Promise<Response>;

/** Every route of the application, in registration order. */
export class RouteRegistry {
  readonly routes: RouteInfo[] = [];

  find(method: string, path: string): RouteInfo | undefined {
    return this.routes.find((r) => r.method === method && r.path === path);
  }
}

/** Told when a signed-in user is refused a route by its permission (for the audit trail). */
export type DeniedHook = (c: Context<AppEnv>, user: SessionUser, route: RouteInfo, reason: string) => void;

/**
 * Adds routes to the app under a prefix, each with its permission and schemas. This is the only way
 * routes are added, so none can exist without a policy (a test walks the Hono router to prove it).
 */
export class Router {
  constructor(
    private readonly app: Hono<AppEnv>,
    readonly registry: RouteRegistry,
    private readonly canAccess: InstanceAccess,
    readonly prefix = "",
    private readonly plugin: string | null = null,
    private readonly onDenied: DeniedHook = () => {},
  ) {}

  /** A router for a sub-prefix (same registry and policy). */
  scope(prefix: string, plugin: string | null = this.plugin): Router {
    return new Router(this.app, this.registry, this.canAccess, this.prefix + prefix, plugin, this.onDenied);
  }

  add<B extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined>(
    spec: RouteSpec<B, Q>,
    handler: RouteHandler<Infer<B>, Infer<Q>>,
  ): void {
    const path = (this.prefix + spec.path).replace(/(.)\/$/, "$1");
    if (this.registry.find(spec.method, path)) throw new Error(`Route ${spec.method} ${path} is registered twice.`);
    const info = { ...spec, path, kind: spec.kind ?? "api", plugin: this.plugin } as RouteInfo;
    this.registry.routes.push(info);
    const { canAccess, onDenied } = this;
    this.app.on(spec.method, path, async function handleRoute(c) {
      const user = c.get("user");
      if (spec.kind === "page" && !user && spec.permission !== "public") {
        return c.redirect(`/login?next=${encodeURIComponent(c.req.path)}`, 302);
      }
      try {
        authorize(spec.permission, user, c.req.param() as Record<string, string>, canAccess, c.get("metricsToken"));
      } catch (e) {
        if (user && e instanceof AppError && e.code === "FORBIDDEN") onDenied(c, user, info, e.message);
        throw e;
      }
      const body = spec.body ? validate(spec.body, await readJson(c.req.raw), "body") : undefined;
      const query = spec.query ? validate(spec.query, c.req.query(), "query") : undefined;
      return await handler(c, { body, query, user: user as SessionUser } as RouteInput<Infer<B>, Infer<Q>>);
    });
  }
}

/** The numeric path parameter `name` of the current request; 400 when it is not a positive integer. */
export function numericParam(c: Context<AppEnv>, name: string): number {
  return parseId(c.req.param(name), name);
}
