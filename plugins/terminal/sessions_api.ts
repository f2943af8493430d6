import { actorOf, AppError, type CoreServices, numericParam, type Router } from "../../core/mod.ts";
import type { AttachedSockets } from "./attached.ts";
import { sessionIdOf, tmuxName } from "./names.ts";
import { requireOwner } from "./owner.ts";
import { killCommand, listCommand, parseList } from "./tmux.ts";

/** One terminal session as the API lists it. */
export interface SessionInfo {
  session_id: string;
  owner_id: number | null;
  /** The owner's user name (null when the user is gone). */
  owner: string | null;
  attached: boolean;
  created_at: string;
  last_activity_at: string;
  detached_at: string | null;
}

type Services = Pick<CoreServices, "ssh" | "users" | "audit">;

/**
 * The session the Terminal tab opens for `userId` when none is chosen: their oldest own session, else
 * `main` unless another user has it (session ids are per instance, not per user), else `main-<user id>`
 * (numbered on when that is taken too).
 */
export function defaultSession(all: SessionInfo[], userId: number): string {
  const own = all.find((x) => x.owner_id === userId);
  if (own) return own.session_id;
  const taken = (id: string) => all.some((x) => x.session_id === id);
  if (!taken("main")) return "main";
  let id = `main-${userId}`;
  for (let n = 2; taken(id); n++) id = `main-${userId}-${n}`;
  return id;
}

/** Every terminal session of the instance, oldest first. */
async function allSessions(s: Services, instanceId: number): Promise<SessionInfo[]> {
  const r = await s.ssh.exec(instanceId, listCommand(), { maxOutput: 1 << 20 });
  const iso = (sec: number) => new Date(sec * 1000).toISOString();
  const out: SessionInfo[] = [];
  for (const t of parseList(r.stdout)) {
    const sessionId = sessionIdOf(t.name);
    if (!sessionId) continue;
    out.push({
      session_id: sessionId,
      owner_id: t.ownerId,
      owner: t.ownerId === null ? null : s.users.find(t.ownerId)?.username ?? null,
      attached: t.attached > 0,
      created_at: iso(t.created),
      last_activity_at: iso(t.lastActivity),
      detached_at: t.detachedAt === null ? null : iso(t.detachedAt),
    });
  }
  return out.sort((a, b) => a.created_at.localeCompare(b.created_at) || a.session_id.localeCompare(b.session_id));
}

/** `GET .../terminal/sessions` and `DELETE .../terminal/sessions/:sid` (owner or admin; audited). */
export function addSessionRoutes(r: Router, s: Services, attached: AttachedSockets): void {
  r.add({
    method: "GET",
    path: "/sessions",
    permission: "instance",
    summary: "Terminal sessions of an instance (users see their own, admins all) and the caller's default one",
    tags: ["terminal"],
  }, async (c, { user }) => {
    const all = await allSessions(s, numericParam(c, "id"));
    return c.json({
      sessions: all.filter((x) => user.role === "admin" || x.owner_id === user.id),
      default_session: defaultSession(all, user.id),
    });
  });

  r.add({
    method: "DELETE",
    path: "/sessions/:sid",
    permission: "instance",
    summary: "Close a terminal session (its owner, or an admin)",
    tags: ["terminal"],
  }, async (c, { user }) => {
    const instanceId = numericParam(c, "id");
    const sessionId = c.req.param("sid") ?? "";
    const name = tmuxName(sessionId);
    const found = (await allSessions(s, instanceId)).find((x) => x.session_id === sessionId);
    // A user cannot tell another user's session from a missing one.
    if (!found || (user.role !== "admin" && found.owner_id !== user.id)) {
      throw new AppError("NOT_FOUND", `No terminal session "${sessionId}".`);
    }
    if (user.role !== "admin") requireOwner(found.owner_id, user.id, sessionId);
    // Its browsers learn why (4004, final) before the shell goes, instead of seeing it exit.
    attached.end(instanceId, sessionId, `The session was closed by ${user.username}.`);
    await s.ssh.exec(instanceId, killCommand(name), { maxOutput: 1024 });
    s.audit.record({
      actor: actorOf(c),
      action: "terminal.close",
      target: `instance:${instanceId}`,
      instanceId,
      details: { session_id: sessionId, owner_id: found.owner_id, reason: "closed by request" },
    });
    return c.body(null, 204);
  });
}
