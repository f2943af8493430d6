import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import { accessLost, type CoreServices, readSessionCookie } from "../../core/mod.ts";
import { tailCommand } from "./command.ts";
import { containerLogLines } from "./container_log.ts";
import { type ExecChannel, openExecChannel } from "./exec_channel.ts";
import { LineQueue, LineSplitter } from "./lines.ts";
import type { LogsQuery } from "./query.ts";
import { logType } from "./types.ts";

/** Limits and timings of one log stream. */
export interface LogStreamOptions {
  /** Idle streams get a comment line this often, and the session and assignment are re-checked. */
  heartbeatMs: number;
  /** Lines arriving within this time go out as one `line` event. */
  batchMs: number;
  /** Most lines in one `line` event. */
  maxBatchLines: number;
  /** Characters waiting for a slow client before lines are dropped (and a `gap` sent). */
  maxQueuedChars: number;
  /** Longer lines are cut. */
  maxLineChars: number;
}

/** The services a log stream uses. */
export type LogStreamServices = Pick<
  CoreServices,
  "ssh" | "runtime" | "instances" | "sessions" | "shutdown" | "lifecycle"
>;

/** Who asked for which instance's log. */
export interface LogStreamRequest {
  instanceId: number;
  /** The instance's name (the runtime backend's handle for the container log). */
  name: string;
  query: LogsQuery;
}

/** stderr lines of `tail` (e.g. "has been replaced; following new file") kept for a slow client. */
const MAX_NOTICES = 50;

/**
 * Streams an instance's log as Server-Sent Events:
 * - `ready` `{type, source: "ssh"|"container", follow, tail}` once the source is open;
 * - `line` a JSON array of lines (batched);
 * - `gap` `{dropped}` where lines were lost because the client read too slowly;
 * - `notice` `{level, message, fallback?}` (tail's own messages, the fallback to the container log);
 * - `end` `{reason}` when the source is exhausted or the stream stops (session or access gone).
 *
 * Files are read with `tail -n N [-F]` on an exec channel of the pool's connection; the channel is
 * signalled and closed when the client goes away. When SSH cannot be reached, the runtime backend's
 * container log is sent instead (read once), after a notice saying so.
 */
export function streamLogs(
  c: Context,
  s: LogStreamServices,
  req: LogStreamRequest,
  opts: LogStreamOptions,
): Response {
  const token = readSessionCookie(c) ?? "";
  const { instanceId, name, query } = req;
  return streamSSE(c, async (stream) => {
    const queue = new LineQueue(opts.maxQueuedChars);
    const notices: { level: string; message: string; fallback?: boolean }[] = [];
    let channel: ExecChannel | null = null;
    /** Why the source is done (null while it may still produce lines). */
    let finished: string | null = null;
    let wake: (() => void) | null = null;
    const notify = () => {
      const w = wake;
      wake = null;
      w?.();
    };
    const stopChannel = () => {
      const ch = channel;
      channel = null;
      if (!ch) return;
      try {
        ch.signal("TERM"); // without this, a quiet `tail -F` would outlive the channel
        ch.close();
      } catch { /* the connection is already gone */ }
    };
    const send = (event: string, data: unknown) => stream.writeSSE({ event, data: JSON.stringify(data) });
    stream.onAbort(() => {
      stopChannel();
      notify();
    });
    const heartbeat = setInterval(notify, opts.heartbeatMs);
    s.shutdown.signal.addEventListener("abort", notify, { once: true });
    try {
      const type = logType(query.type);
      let fallbackReason = "";
      if (type.source.kind === "file") {
        try {
          const conn = await s.ssh.connect(instanceId);
          channel = await openExecChannel(conn, tailCommand(type.source, query.tail, query.follow));
        } catch (e) {
          fallbackReason = (e as Error).message;
        }
      }
      if (stream.aborted) return;
      const source = channel ? "ssh" : "container";
      await send("ready", { type: type.id, source, follow: query.follow && !!channel, tail: query.tail });

      if (channel) {
        const out = new LineSplitter(opts.maxLineChars);
        const err = new LineSplitter(opts.maxLineChars);
        const noticeLines = (lines: string[]) => {
          for (const message of lines) if (notices.length < MAX_NOTICES) notices.push({ level: "info", message });
        };
        channel.on("data", (chunk) => {
          queue.push(out.push(chunk));
          notify();
        });
        channel.stderr.on("data", (chunk) => {
          noticeLines(err.push(chunk));
          notify();
        });
        channel.on("close", () => {
          queue.push(out.end());
          noticeLines(err.end());
          channel = null;
          // A deleted instance takes its connection along: reopening cannot help then.
          finished ??= s.lifecycle.deleting(instanceId)
            ? "The instance was deleted."
            : query.follow
            ? "The SSH connection closed; reopen the log to continue."
            : "complete";
          notify();
        });
      } else {
        if (fallbackReason) {
          notices.push({
            level: "warning",
            fallback: true,
            message: `SSH is unavailable (${fallbackReason}). Showing the container log from the runtime backend ` +
              "instead; it is read once, not followed.",
          });
        } else if (query.follow) {
          notices.push({ level: "info", message: "The container console is read once; it cannot be followed." });
        }
        try {
          queue.push(containerLogLines(await s.runtime.require().logs(name, query.tail), query.tail));
        } catch (e) {
          notices.push({ level: "error", message: `The container log could not be read: ${(e as Error).message}` });
        }
        finished = "complete";
      }

      let lastBeat = Date.now();
      while (!stream.aborted && !stream.closed && !s.shutdown.signal.aborted) {
        if (queue.empty && !notices.length && finished === null) {
          await new Promise<void>((r) => wake = r);
          // Give lines arriving right behind this one the chance to share its event.
          if (!queue.empty && finished === null) await new Promise((r) => setTimeout(r, opts.batchMs));
        }
        if (Date.now() - lastBeat >= opts.heartbeatMs) {
          const refused = accessLost(s, token, instanceId)?.reason;
          if (refused) {
            stopChannel();
            await send("end", { reason: refused });
            break;
          }
          await stream.write(": keep-alive\n\n");
          lastBeat = Date.now();
        }
        for (const notice of notices.splice(0)) await send("notice", notice);
        for (let item = queue.next(opts.maxBatchLines); item; item = queue.next(opts.maxBatchLines)) {
          if ("gap" in item) await send("gap", { dropped: item.gap });
          else await send("line", item.lines);
        }
        if (finished !== null && !notices.length) {
          await send("end", { reason: finished });
          break;
        }
      }
    } catch (e) {
      if (!stream.aborted) await send("notice", { level: "error", message: (e as Error).message }).catch(() => {});
    } finally {
      clearInterval(heartbeat);
      s.shutdown.signal.removeEventListener("abort", notify);
      stopChannel();
    }
  });
}
