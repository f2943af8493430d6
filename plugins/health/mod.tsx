import { definePlugin, Island } from "../../core/mod.ts";
import { eventForApi } from "../../core/ssh/events.ts";
import SshPanel from "./islands/ssh_panel.tsx";

/** How many SSH events the tab renders up front (the island shows at most this many). */
const INITIAL_EVENTS = 50;

/**
 * The instance page's SSH tab: connection state, uptime and traffic, tunnels with their health, the
 * stored event history, and Test connection / Reconnect, all kept current by pushed events. It reads
 * the SSH core's API (`/api/v1/instances/{id}/ssh-*`); `/metrics` stays core's, for every plugin.
 */
export function healthPlugin() {
  return definePlugin({
    name: "health",
    needs: ["ssh", "sshEvents"],
    setup(ctx) {
      const s = ctx.services;
      ctx.instanceTab({
        path: "ssh",
        title: "SSH",
        order: 10,
        render: (_c, _user, instanceId) => (
          <Island
            name="ssh_panel"
            component={SshPanel}
            props={{
              instanceId,
              initial: s.ssh.status(instanceId),
              events: s.sshEvents.list(instanceId, INITIAL_EVENTS).map(eventForApi),
              canManage: true,
            }}
          />
        ),
      });
    },
  });
}
