import type { Context } from "hono";
import {
  accessLost,
  actorOf,
  type CoreServices,
  frameBudget,
  type OpenConnections,
  readSessionCookie,
  requireWebSocketHandshake,
} from "../../core/mod.ts";
import type { AttachedSockets } from "./attached.ts";
import { bridge } from "./bridge.ts";
import { newSessionId, tmuxName } from "./names.ts";
import type { TerminalOptions } from "./options.ts";
import { parsePrepared, requireOwner } from "./owner.ts";
import {
  CLOSE,
  MAX_CONTROL_FRAME_CHARS,
  MAX_CONTROL_FRAMES_PER_SECOND,
  parseClientMessage,
  replayBytes,
  type ServerMessage,
} from "./protocol.ts";
import { openPtyChannel, type PtyChannel } from "./pty_channel.ts";
import type { TerminalQuery } from "./query.ts";
import type { Recording, Recordings } from "./recordings.ts";
import { attachCommand, clampSize, markDetachedCommand, prepareCommand, TMUX } from "./tmux.ts";

/** The services a terminal socket uses. */
export type TerminalServices = Pick<
  CoreServices,
  "ssh" | "instances" | "sessions" | "audit" | "settings" | "lifecycle"
>;

/** Most bytes of replay read from the instance. */
const MAX_PREPARE_OUTPUT = 32 << 20;

/**
 * Opens (or reattaches to) a terminal session and upgrades the request to the WebSocket of
 * `protocol.ts`. Everything that can fail with an HTTP status (bad id, another user's session, SSH
 * down) fails before the upgrade. The tmux session lives on the instance, so closing the socket only
 * detaches: the session survives the browser and this process. While the `terminal_recording` setting
 * is on, the socket's output (and resizes) is also written to a recording.
 */
export async function openTerminal(
  c: Context,
  s: TerminalServices,
  req: { instanceId: number; user: { id: number; username: string; role: "admin" | "user" }; query: TerminalQuery },
  opts: TerminalOptions,
  open: OpenConnections,
  recordings: Recordings,
  attached: AttachedSockets,
): Promise<Response> {
  requireWebSocketHandshake(c.req.raw.headers);
  const { instanceId, user, query } = req;
  const sessionId = query.session_id ?? newSessionId();
  const name = tmuxName(sessionId);
  const size = clampSize(query.cols, query.rows);
  const token = readSessionCookie(c) ?? "";
  const actor = actorOf(c);
  const target = `instance:${instanceId}`;

  const conn = await s.ssh.connect(instanceId);
  const prep = await conn.exec(prepareCommand(name, user.id, size, opts), { maxOutput: MAX_PREPARE_OUTPUT });
  const prepared = parsePrepared(prep.stdout, prep.stderr);
  if (!prepared.created) {
    try {
      requireOwner(prepared.ownerId, user.id, sessionId);
    } catch (e) {
      s.audit.record({
        actor,
        action: "terminal.open",
        target,
        instanceId,
        outcome: "denied",
        details: { session_id: sessionId },
      });
      throw e;
    }
  }
  const replay = prepared.created ? new Uint8Array(0) : replayBytes(prepared.capture);
  const recording: Recording | null = s.settings.get().terminal_recording
    ? await recordings.start({
      instanceId,
      instanceName: s.instances.get(instanceId).name,
      sessionId,
      user,
      ...size,
    })
    : null;
  let channel: PtyChannel;
  let opened: PtyChannel | undefined;
  let upgraded: { socket: WebSocket; response: Response };
  try {
    channel = opened = await openPtyChannel(conn, attachCommand(name), size);
    upgraded = Deno.upgradeWebSocket(c.req.raw);
  } catch (e) {
    // No browser socket will ever close the PTY channel, which would hold its `tmux attach` for good.
    try {
      opened?.close();
    } catch { /* already gone with its connection */ }
    if (recording) void recording.close().then(() => recordings.remove(instanceId, recording.id)).catch(() => {});
    throw e;
  }
  const { socket, response } = upgraded;
  socket.binaryType = "arraybuffer";
  s.audit.record({
    actor,
    action: "terminal.open",
    target,
    instanceId,
    details: { session_id: sessionId, created: prepared.created, recording: recording?.id ?? null },
  });
  const send = (m: ServerMessage) => socket.readyState === WebSocket.OPEN && socket.send(JSON.stringify(m));
  let stopBridge = () => {};
  let closeReason = "browser closed";
  let ended = false;

  const forget = open.add(() => finish(CLOSE.goingAway, "The control plane is shutting down."));
  // Closed through the API: the session ends, and the close says who ended it.
  const unlist = attached.add(instanceId, sessionId, (reason) => {
    send({ type: "exit", code: null, session_ended: true });
    finish(CLOSE.killed, reason);
  });
  const recheck = setInterval(() => {
    const lost = accessLost(s, token, instanceId);
    if (lost) finish(lost.code, lost.reason);
  }, opts.recheckMs);

  const opening = setTimeout(() => finish(CLOSE.error, "The socket never opened."), opts.openTimeoutMs);

  /** Closes the socket once, detaching from (not ending) the tmux session. */
  function finish(code: number, reason: string) {
    if (ended) return;
    ended = true;
    forget();
    unlist();
    closeReason = reason;
    clearInterval(recheck);
    clearTimeout(opening);
    stopBridge();
    void recording?.close();
    try {
      channel.close();
    } catch { /* already gone with its connection */ }
    if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) {
      try {
        socket.close(code, reason);
      } catch { /* not yet open */ }
    }
    conn.exec(markDetachedCommand(name), { maxOutput: 1024 }).catch(() => {});
    s.audit.record({
      actor,
      action: "terminal.close",
      target,
      instanceId,
      details: { session_id: sessionId, reason: closeReason },
    });
  }

  socket.onopen = () => {
    clearTimeout(opening);
    send({
      type: "session",
      session_id: sessionId,
      created: prepared.created,
      ...size,
      replay_bytes: replay.length,
      recording: recording !== null,
    });
    if (replay.length) {
      socket.send(replay);
      recording?.output(replay);
    }
    stopBridge = bridge(socket, channel, opts, recording?.output);
  };
  const controlBudget = frameBudget(MAX_CONTROL_FRAMES_PER_SECOND);
  socket.addEventListener("message", (e) => {
    if (typeof e.data !== "string") return;
    if (e.data.length > MAX_CONTROL_FRAME_CHARS) return finish(CLOSE.inputOverflow, "Control frame too large.");
    if (!controlBudget()) return finish(CLOSE.inputOverflow, "Too many control frames.");
    const m = parseClientMessage(e.data);
    if (m?.type === "resize") {
      const next = clampSize(m.cols, m.rows);
      channel.setWindow(next.rows, next.cols, 0, 0);
      recording?.resize(next.cols, next.rows);
      send({ type: "resized", ...next });
    }
  });
  socket.onclose = () => finish(CLOSE.normal, closeReason);
  socket.onerror = () => finish(CLOSE.error, "socket error");

  let exitCode: number | null = null;
  channel.on("exit", (code) => exitCode = typeof code === "number" ? code : null);
  channel.on("close", async () => {
    if (ended) return;
    // The instance was deleted (its connection went with it): nothing to reattach to.
    if (s.lifecycle.deleting(instanceId)) {
      return finish(CLOSE.instanceGone, "The instance was deleted.");
    }
    // Did the shell end (no session any more), or was the client only detached / the link lost?
    const alive = await conn.exec(`${TMUX} has-session -t '=${name}' 2>/dev/null && echo alive`, { maxOutput: 64 })
      .then((r) => r.stdout.trim() === "alive", () => true);
    send({ type: "exit", code: exitCode, session_ended: !alive });
    finish(alive ? CLOSE.error : CLOSE.normal, alive ? "terminal detached" : "session ended");
  });
  return response;
}
