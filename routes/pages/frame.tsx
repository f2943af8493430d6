import type { Context } from "hono";
import type { ComponentChildren } from "preact";
import type { AppEnv } from "../../core/http/env.ts";
import { Layout, type NavItem } from "../../core/ui/layout.tsx";
import { sendPage } from "../../core/ui/render.tsx";
import type { PluginHost } from "../../core/plugins/host.ts";

/** Core navigation entries; plugins add theirs through `ctx.page({ nav })`. */
const CORE_NAV: NavItem[] = [
  { href: "/", label: "Dashboard", adminOnly: false, order: 10 },
  { href: "/users", label: "Users", adminOnly: true, order: 50 },
  { href: "/settings", label: "Settings", adminOnly: true, order: 90 },
];

/** The navigation: core pages plus every plugin page that asked for an entry. */
export function navigation(host: PluginHost): NavItem[] {
  const fromPlugins = host.pages.filter((p) => p.nav).map((p) => ({
    href: p.path,
    label: p.nav!.label,
    adminOnly: p.permission === "admin",
    order: p.nav!.order,
  }));
  return [...CORE_NAV, ...fromPlugins];
}

/** Renders `children` in the layout for the current user. */
export function framed(
  c: Context<AppEnv>,
  host: PluginHost,
  title: string,
  children: ComponentChildren,
  status = 200,
): Response {
  return sendPage(
    c,
    <Layout title={title} user={c.get("user")} nav={navigation(host)} current={c.req.path}>{children}</Layout>,
    status,
  );
}
