import { actorOf, definePlugin, Island, numericParam } from "../../core/mod.ts";
import LogViewer from "./islands/log_viewer.tsx";
import { logsQuery, MAX_TAIL } from "./query.ts";
import { type LogStreamOptions, streamLogs } from "./stream.ts";
import { logTypeInfos } from "./types.ts";

/** Options of the logs plugin. */
export interface LogsPluginOptions extends Partial<LogStreamOptions> {
  /** Lines the viewer keeps (older ones scroll away). */
  viewerMaxLines?: number;
}

export const logsDefaults = {
  heartbeatMs: 20_000,
  batchMs: 100,
  maxBatchLines: 500,
  maxQueuedChars: 2_000_000,
  maxLineChars: 16_384,
  viewerMaxLines: 5_000,
} satisfies Required<LogsPluginOptions>;

/**
 * Instance logs: the agent image's service logs (OpenClaw, sshd, the browser and VNC services,
 * supervisord) read over SSH with `tail -F`, the container console from the runtime backend (also
 * the fallback when SSH is down), streamed as SSE, and the instance page's Logs tab.
 */
export function logsPlugin(options: LogsPluginOptions = {}) {
  const opts = { ...logsDefaults, ...options };
  return definePlugin({
    name: "logs",
    needs: ["ssh", "runtime", "instances", "sessions", "audit", "shutdown", "lifecycle"],
    setup(ctx) {
      const { audit, instances } = ctx.services;
      const r = ctx.api("/instances/:id/logs");
      r.add({
        method: "GET",
        path: "/types",
        permission: "instance",
        summary: "The log types an instance offers",
        tags: ["logs"],
      }, (c) => {
        instances.get(numericParam(c, "id"));
        return c.json({ types: logTypeInfos() });
      });
      r.add({
        method: "GET",
        path: "",
        permission: "instance",
        kind: "stream",
        summary: "An instance log, last lines then optionally followed (text/event-stream)",
        tags: ["logs"],
        query: logsQuery,
      }, (c, { query }) => {
        const instanceId = numericParam(c, "id");
        const { name } = instances.get(instanceId);
        audit.record({
          actor: actorOf(c),
          action: "logs.view",
          target: `instance:${instanceId}`,
          instanceId,
          details: { type: query.type },
        });
        return streamLogs(c, ctx.services, { instanceId, name, query }, opts);
      });
      ctx.instanceTab({
        path: "logs",
        title: "Logs",
        order: 300,
        render: (_c, _user, instanceId) => (
          <Island
            name="log_viewer"
            component={LogViewer}
            props={{ instanceId, types: logTypeInfos(), maxLines: opts.viewerMaxLines, tail: 200, maxTail: MAX_TAIL }}
          />
        ),
      });
    },
  });
}
