import { numericParam, type Router } from "../../core/http/router.ts";
import type { PluginHost } from "../../core/plugins/host.ts";
import type { CoreServices } from "../../core/services.ts";
import { eventForApi } from "../../core/ssh/events.ts";
import { Island } from "../../core/ui/island.tsx";
import SshPanel, { utcTime } from "../../islands/ssh_panel.tsx";
import InstanceActions from "../../islands/instance_actions.tsx";
import { framed } from "./frame.tsx";

/** How many SSH events the page renders up front (the island shows at most this many). */
const INITIAL_EVENTS = 50;

/** The page of one instance: a short header, then its SSH connection panel. */
export function instancePageRoutes(root: Router, s: CoreServices, host: PluginHost): void {
  root.add({
    kind: "page",
    method: "GET",
    path: "/instances/:id",
    permission: "instance",
    summary: "Instance page: overview and SSH connection",
    tags: ["pages"],
  }, (c) => {
    const id = numericParam(c, "id");
    const inst = s.instances.get(id);
    const initial = s.ssh.status(id);
    const events = s.sshEvents.list(id, INITIAL_EVENTS).map(eventForApi);
    return framed(
      c,
      host,
      inst.display_name || inst.name,
      (
        <section class="stack">
          <div class="row wrap instance-head" data-testid="instance-head">
            <span class="mono" data-testid="instance-name">{inst.name}</span>
            <span class={`badge instance-${inst.status}`} data-testid="instance-status">{inst.status}</span>
            <span class="muted">
              created <time dateTime={inst.created_at}>{utcTime(inst.created_at)}</time>
            </span>
            <a class="back" href="/">All instances</a>
          </div>
          <Island
            name="instance_actions"
            component={InstanceActions}
            props={{ id, status: inst.status, canDelete: c.get("user")?.role === "admin" }}
          />
          <Island
            name="ssh_panel"
            component={SshPanel}
            props={{ instanceId: id, initial, events, canManage: true }}
          />
        </section>
      ),
    );
  });
}
