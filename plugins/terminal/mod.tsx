import { join } from "node:path";
import { definePlugin, Island, numericParam, OpenConnections } from "../../core/mod.ts";
import { AttachedSockets } from "./attached.ts";
import TerminalView from "./islands/terminal_view.tsx";
import { terminalDefaults, type TerminalOptions } from "./options.ts";
import { terminalQuery } from "./query.ts";
import { reapOnce } from "./reaper.ts";
import { Recordings } from "./recordings.ts";
import { addRecordingRoutes } from "./recordings_api.ts";
import { addSessionRoutes } from "./sessions_api.ts";
import { openTerminal } from "./socket.ts";

export { terminalDefaults, type TerminalOptions } from "./options.ts";

/**
 * A terminal on the instance as the agent user: a PTY over the shared SSH connection attached to a
 * tmux session on the instance (so it outlives the browser and this process), streamed over a
 * WebSocket (`protocol.ts`), with session listing/closing, reaping of long-detached sessions, audit
 * (`terminal.open`, `terminal.close`, `terminal.recording.delete`), optional recordings (asciicast v2
 * files in `<data>/recordings/<instance id>/` while the `terminal_recording` setting is on, deleted
 * after `terminal_recording_retention_days` and with their instance) and the instance page's Terminal tab.
 */
export function terminalPlugin(options: Partial<TerminalOptions> = {}) {
  const opts: TerminalOptions = { ...terminalDefaults, ...options };
  let timer: ReturnType<typeof setInterval> | undefined;
  let retentionTimer: ReturnType<typeof setInterval> | undefined;
  const unsubscribe: (() => void)[] = [];
  const open = new OpenConnections();
  const attached = new AttachedSockets();
  let recordings: Recordings | undefined;
  let retaining: Promise<void> = Promise.resolve();
  return definePlugin({
    name: "terminal",
    needs: ["ssh", "instances", "sessions", "audit", "users", "clock", "settings", "live", "lifecycle"],
    setup(ctx) {
      const s = ctx.services;
      const rec = recordings = new Recordings(
        join(ctx.config.dataPath, "recordings"),
        {
          maxBytes: opts.recordingMaxBytes,
          flushBytes: opts.recordingFlushBytes,
          flushMs: opts.recordingFlushMs,
          maxPendingBytes: opts.recordingMaxPendingBytes,
        },
        () => s.clock.now(),
        (msg, fields) => ctx.log.warn(msg, fields),
      );
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
        return openTerminal(c, s, { instanceId, user, query }, opts, open, rec, attached);
      });
      ctx.metric({
        name: "claworc_terminal_sockets",
        type: "gauge",
        help: 'Browser terminal sockets attached now (their PTYs count in claworc_ssh_channels{kind="pty"}).',
        samples: () => [{ value: open.size }],
      });
      addSessionRoutes(r, s, attached);
      addRecordingRoutes(r, s, rec);
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

      const rec = recordings!;
      // Clean-ups run one at a time; close waits for the last.
      const retain = (days: number) =>
        retaining = retaining.then(() => rec.purgeOlderThan(days)).then(
          (removed) => void (removed && ctx.log.info("terminal recording retention applied", { days, removed })),
          (e) => ctx.log.warn("terminal recording retention", { error: (e as Error).message }),
        );
      void retain(s.settings.get().terminal_recording_retention_days);
      retentionTimer = setInterval(
        () => void retain(s.settings.get().terminal_recording_retention_days),
        opts.recordingRetentionIntervalMs,
      );
      unsubscribe.push(
        s.settings.onChange((values, changed) => {
          if (changed.includes("terminal_recording_retention_days")) {
            void retain(values.terminal_recording_retention_days);
          }
        }),
        // A deleted instance's recordings go with it (its id may be given to a new instance).
        s.live.subscribe((e) => {
          if (e.type !== "instance_deleted") return;
          retaining = retaining.then(() => rec.removeInstance(e.id)).catch((err) =>
            ctx.log.warn("terminal recordings of a deleted instance", { instanceId: e.id, error: err.message })
          );
        }),
      );
    },
    async close() {
      open.endAll();
      if (timer !== undefined) clearInterval(timer);
      clearInterval(retentionTimer);
      timer = retentionTimer = undefined;
      for (const off of unsubscribe.splice(0)) off();
      await recordings?.closeAll();
      await retaining;
    },
  });
}
