import { definePlugin, Island, numericParam } from "../../core/mod.ts";
import TerminalView from "./islands/terminal_view.tsx";
import { terminalDefaults, type TerminalOptions } from "./options.ts";
import { terminalQuery } from "./query.ts";
import { reapOnce } from "./reaper.ts";
import { addSessionRoutes } from "./sessions_api.ts";
import { openTerminal, OpenTerminals } from "./socket.ts";

export { terminalDefaults, type TerminalOptions } from "./options.ts";

/**
 * A terminal on the instance as the agent user: a PTY over the shared SSH connection attached to a
 * tmux session on the instance (so it outlives the browser and this process), streamed over a
 * WebSocket (`protocol.ts`), with session listing/closing, reaping of long-detached sessions, audit
 * (`terminal.open`, `terminal.close`) and the instance page's Terminal tab.
 */
export function terminalPlugin(options: Partial<TerminalOptions> = {}) {
  const opts: TerminalOptions = { ...terminalDefaults, ...options };
  let timer: ReturnType<typeof setInterval> | undefined;
  const open = new OpenTerminals();
  return definePlugin({
    name: "terminal",
    needs: ["ssh", "instances", "sessions", "audit", "users", "clock"],
    setup(ctx) {
      const s = ctx.services;
      const r = ctx.api("/instances/:id/terminal");
      r.add({
        method: "GET",
        path: "",
        permission: "instance",
        kind: "websocket",
        summary: "A terminal session on the instance (WebSocket; binary data, JSON control frames)",
        tags: ["terminal"],
        query: terminalQuery,
      }, (c, { query, user }) => {
        const instanceId = numericParam(c, "id");
        s.instances.get(instanceId);
        return openTerminal(c, s, { instanceId, user, query }, opts, open);
      });
      ctx.metric({
        name: "claworc_terminal_sockets",
        type: "gauge",
        help: 'Browser terminal sockets attached now (their PTYs count in claworc_ssh_channels{kind="pty"}).',
        samples: () => [{ value: open.size }],
      });
      addSessionRoutes(r, s);
      ctx.instanceTab({
        path: "terminal",
        title: "Terminal",
        order: 100,
        render: (_c, _user, instanceId) => (
          <Island name="terminal_view" component={TerminalView} props={{ instanceId }} />
        ),
      });
    },
    ready(ctx) {
      const s = ctx.services;
      const reap = () => void reapOnce(s, ctx.log, s.clock.now(), opts.reapAfterMs);
      timer = setInterval(reap, opts.reapIntervalMs);
    },
    close() {
      open.endAll();
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    },
  });
}
