import type { CoreServices, PluginContext } from "../../core/mod.ts";
import { sessionIdOf } from "./names.ts";
import { killCommand, listCommand, parseList, type TmuxSession } from "./tmux.ts";

/** The sessions of `list` nobody has been attached to for `reapAfterMs` (at `nowMs`). */
export function expired(list: TmuxSession[], nowMs: number, reapAfterMs: number): TmuxSession[] {
  return list.filter((t) => {
    if (!sessionIdOf(t.name) || t.attached > 0) return false;
    const since = t.detachedAt ?? Math.max(t.created, t.lastActivity);
    return nowMs - since * 1000 >= reapAfterMs;
  });
}

/**
 * Closes detached sessions past their time on every instance with a live SSH connection (an
 * instance that is down is reaped when it is reachable again: the times live in tmux, on the instance).
 */
export async function reapOnce(
  s: Pick<CoreServices, "ssh" | "audit">,
  log: PluginContext["log"],
  nowMs: number,
  reapAfterMs: number,
): Promise<number> {
  let closed = 0;
  for (const id of s.ssh.activeIds()) {
    const conn = s.ssh.current(id);
    if (!conn) continue;
    try {
      const list = parseList((await conn.exec(listCommand(), { maxOutput: 1 << 20 })).stdout);
      for (const t of expired(list, nowMs, reapAfterMs)) {
        await conn.exec(killCommand(t.name), { maxOutput: 1024 });
        closed++;
        s.audit.record({
          actor: { id: null, name: "system" },
          action: "terminal.close",
          target: `instance:${id}`,
          instanceId: id,
          details: { session_id: sessionIdOf(t.name), owner_id: t.ownerId, reason: "detached too long" },
        });
      }
    } catch (e) {
      log.warn("terminal reaper", { instanceId: id, error: (e as Error).message });
    }
  }
  return closed;
}
