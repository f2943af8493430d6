import { definePlugin, Island } from "../../core/mod.ts";
import { addConfigRoutes, EDITOR_FORBIDDEN, mayEditConfig } from "./api.ts";
import ConfigEditor from "./islands/config_editor.tsx";
import { MANAGED_PATHS } from "./managed.ts";

/**
 * The config editor: an instance's OpenClaw configuration (`~/.openclaw/openclaw.json`) read, checked
 * with OpenClaw's own validator and applied over SSH through core's `agentConfig` (atomic write, the
 * gateway restarted and awaited, the previous file restored when it does not come back). API at
 * `/api/v1/instances/:id/config`, UI in the instance's "Config" tab. Admins may always use it;
 * assigned users only when the `config_editor_access` setting is `assigned`. Saves are audited as
 * `config.update` with the size and hashes, never the content (it may hold keys).
 */
export function configPlugin() {
  return definePlugin({
    name: "config",
    needs: ["agentConfig", "settings", "instances", "audit", "modelSync", "lifecycle"],
    setup(ctx) {
      addConfigRoutes(ctx.api("/instances/:id/config"), ctx.services);
      ctx.instanceTab({
        path: "config",
        title: "Config",
        order: 90,
        render: (_c, user, instanceId) =>
          mayEditConfig(ctx.services, user)
            ? (
              <Island
                name="config_editor"
                component={ConfigEditor}
                props={{ instanceId, managed: [...MANAGED_PATHS] }}
              />
            )
            : <p class="empty" data-testid="config-forbidden">{EDITOR_FORBIDDEN}</p>,
      });
    },
  });
}
