import { definePlugin, Island, numericParam, OpenConnections } from "../../core/mod.ts";
import DesktopView from "./islands/desktop_view.tsx";
import { DesktopControl } from "./control.ts";
import { desktopDefaults, type DesktopOptions } from "./options.ts";
import { openDesktop } from "./socket.ts";

export { desktopDefaults, type DesktopOptions } from "./options.ts";

/**
 * The browser the agent drives, watched and driven from the dashboard: a WebSocket that proxies RFB
 * byte for byte to the instance's websockify over its own SSH direct-tcpip channel (`socket.ts`), one
 * controller per instance with everyone else view-only (enforced on the RFB stream, `rfb_filter.ts`),
 * audit (`desktop.open`, `desktop.control`), the instance page's Browser tab and a pop-out page.
 */
export function desktopPlugin(options: Partial<DesktopOptions> = {}) {
  const opts: DesktopOptions = { ...desktopDefaults, ...options };
  const control = new DesktopControl();
  const open = new OpenConnections();
  return definePlugin({
    name: "desktop",
    needs: ["ssh", "instances", "sessions", "audit"],
    setup(ctx) {
      const s = ctx.services;
      ctx.api("/instances/:id/desktop").add({
        method: "GET",
        path: "/websockify",
        permission: "instance",
        kind: "websocket",
        summary: "The instance's desktop as RFB over a WebSocket (binary; JSON text frames arbitrate control)",
        tags: ["desktop"],
      }, (c, { user }) => {
        const instanceId = numericParam(c, "id");
        s.instances.get(instanceId);
        return openDesktop(c, s, { instanceId, user }, opts, control, open);
      });
      ctx.metric({
        name: "claworc_desktop_sockets",
        type: "gauge",
        help: 'Browser desktop sockets open now (each holds one claworc_ssh_channels{kind="tunnel"}).',
        samples: () => [{ value: control.size }],
      });
      ctx.instanceTab({
        path: "desktop",
        title: "Browser",
        order: 50,
        render: (_c, _user, instanceId) => (
          <Island name="desktop_view" component={DesktopView} props={{ instanceId, popout: false }} />
        ),
      });
      ctx.page({
        path: "/instances/:id/desktop/popout",
        title: "Browser",
        permission: "instance",
        render: (c) => {
          const instanceId = numericParam(c, "id");
          s.instances.get(instanceId);
          return <Island name="desktop_view" component={DesktopView} props={{ instanceId, popout: true }} />;
        },
      });
    },
    close() {
      open.endAll();
    },
  });
}
