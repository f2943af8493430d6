import type { Context } from "hono";
import type { VNode } from "preact";
import type { AppEnv } from "../../core/http/env.ts";
import { numericParam, type Router } from "../../core/http/router.ts";
import { AppError } from "../../core/errors.ts";
import type { PluginHost } from "../../core/plugins/host.ts";
import type { CoreServices } from "../../core/services.ts";
import { Island } from "../../core/ui/island.tsx";
import { utcTime } from "../../islands/_time.ts";
import InstanceActions from "../../islands/instance_actions.tsx";
import InstanceSettingsForm from "../../islands/instance_settings_form.tsx";
import { framed } from "./frame.tsx";

/**
 * The instance page: a header (name, resources, live status, actions, a running operation's steps),
 * the tab bar, then the selected tab. Every tab comes from a feature plugin (SSH, Terminal, Files...);
 * `/instances/:id` opens the first.
 */
export function instancePageRoutes(root: Router, s: CoreServices, host: PluginHost): void {
  const shell = (c: Context<AppEnv>, id: number, selected: string, body: VNode) => {
    const inst = s.instances.get(id);
    const tabs = host.instanceTabs;
    return framed(
      c,
      host,
      inst.display_name || inst.name,
      (
        <section class="stack">
          <div class="row wrap instance-head" data-testid="instance-head">
            <span class="mono" data-testid="instance-name">{inst.name}</span>
            <span class="muted">{inst.cpu_limit} CPU · {inst.memory_limit} · {inst.vnc_resolution}</span>
            <span class="muted">
              created <time dateTime={inst.created_at}>{utcTime(inst.created_at)}</time>
            </span>
            <a class="back" href="/">All instances</a>
          </div>
          <Island
            name="instance_actions"
            component={InstanceActions}
            props={{
              id,
              status: inst.status,
              reason: inst.status_reason,
              operation: s.operations.latest(id) ?? null,
              canDelete: c.get("user")?.role === "admin",
            }}
          />
          {c.get("user")?.role === "admin" && (
            <Island
              name="instance_settings_form"
              component={InstanceSettingsForm}
              props={{
                id,
                current: {
                  display_name: inst.display_name,
                  cpu_limit: inst.cpu_limit,
                  memory_limit: inst.memory_limit,
                  vnc_resolution: inst.vnc_resolution,
                },
              }}
            />
          )}
          <nav class="tabs" aria-label="Instance" data-testid="instance-tabs">
            {tabs.map((t) => (
              <a
                key={t.path}
                href={`/instances/${id}/${t.path}`}
                aria-current={t.path === selected ? "page" : undefined}
              >
                {t.title}
              </a>
            ))}
          </nav>
          {body}
        </section>
      ),
    );
  };

  root.add({
    kind: "page",
    method: "GET",
    path: "/instances/:id",
    permission: "instance",
    summary: "Instance page: opens its first tab",
    tags: ["pages"],
  }, (c) => {
    const id = numericParam(c, "id");
    s.instances.get(id);
    const first = host.instanceTabs[0];
    if (first) return c.redirect(`/instances/${id}/${first.path}`, 302);
    return shell(c, id, "", <p class="muted">No feature plugin adds a tab to instances.</p>);
  });

  root.add({
    kind: "page",
    method: "GET",
    path: "/instances/:id/:tab",
    permission: "instance",
    summary: "Instance page with a tab a feature plugin provides (chat, browser, terminal, files, logs...)",
    tags: ["pages"],
  }, async (c, { user }) => {
    const id = numericParam(c, "id");
    s.instances.get(id);
    const tab = host.instanceTabs.find((t) => t.path === c.req.param("tab"));
    if (!tab) throw new AppError("NOT_FOUND", "This instance has no such tab.");
    return shell(c, id, tab.path, await tab.render(c, user, id));
  });
}
