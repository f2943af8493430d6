import type { VNode } from "preact";
import type { Context } from "hono";
import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import type { CoreServices } from "../services.ts";
import type { AppEnv } from "../http/env.ts";
import type { Router } from "../http/router.ts";
import type { Permission } from "../http/policy.ts";
import type { SessionUser } from "../auth/sessions.ts";
import type { RuntimeBackend } from "./runtime_backend.ts";

/** Names of the services a plugin may ask for. */
export type ServiceName = keyof CoreServices;

/** A page a plugin adds to the dashboard (rendered inside core's layout, listed in the navigation). */
export interface PluginPage {
  /** URL path, e.g. `/audit`. */
  path: string;
  title: string;
  permission: Exclude<Permission, "public">;
  /** Navigation label; pages without one are reachable by link only. */
  nav?: { label: string; order: number };
  render(c: Context<AppEnv>, user: SessionUser): VNode | Promise<VNode>;
}

/**
 * A tab of the instance page (Chat, Browser, Terminal, Files, Logs...), served at
 * `/instances/:id/<path>` to admins and assigned users, inside the instance's header and tab bar.
 */
export interface InstanceTab {
  /** One URL segment, e.g. `terminal`. */
  path: string;
  title: string;
  /** Position in the tab bar (SSH, core's own tab, is 100). */
  order: number;
  render(c: Context<AppEnv>, user: SessionUser, instanceId: number): VNode | Promise<VNode>;
}

/**
 * A metric a plugin adds to `GET /metrics`: a Prometheus family named `claworc_<plugin>_...`, whose
 * samples are read at each scrape (label values are escaped by the host).
 */
export interface MetricFamily {
  name: string;
  type: "gauge" | "counter";
  help: string;
  samples(): { labels?: Record<string, string>; value: number }[];
}

/** What a plugin gets from the host during `setup` and `ready`. */
export interface PluginContext<N extends ServiceName = ServiceName> {
  readonly name: string;
  readonly config: Readonly<Config>;
  readonly log: Logger;
  /** Only the services listed in the plugin's `needs`. */
  readonly services: Pick<CoreServices, N>;
  /** Routes under `/api/v1<prefix>`; a prefix belongs to one plugin only. */
  api(prefix: string): Router;
  page(page: PluginPage): void;
  instanceTab(tab: InstanceTab): void;
  /** Adds a metric family to `GET /metrics`. */
  metric(family: MetricFamily): void;
  /** Registers the runtime backend this plugin implements (one per host). */
  provideBackend(backend: RuntimeBackend): void;
  /** A function the host calls when checking `/health` (true = healthy). */
  healthCheck(name: string, check: () => boolean | Promise<boolean>): void;
}

/**
 * A plugin: made by a factory (`auditPlugin(options)`), no side effects at import time.
 * Lifecycle: `setup` (register routes, pages, backend) → server listens → `ready` (start timers,
 * connect) → ... → `close` (stop timers, release resources), in reverse registration order.
 */
export interface Plugin<N extends ServiceName = ServiceName> {
  readonly name: string;
  /** Services the plugin uses; anything else is not on its context. */
  readonly needs: readonly N[];
  setup?(ctx: PluginContext<N>): void | Promise<void>;
  ready?(ctx: PluginContext<N>): void | Promise<void>;
  close?(): void | Promise<void>;
}

/** Identity helper that keeps a plugin's `needs` typed. */
export function definePlugin<N extends ServiceName>(plugin: Plugin<N>): Plugin<N> {
  return plugin;
}
