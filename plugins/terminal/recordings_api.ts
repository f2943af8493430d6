import { actorOf, AppError, type CoreServices, numericParam, type Router } from "../../core/mod.ts";
import type { Recordings } from "./recordings.ts";

type Services = Pick<CoreServices, "audit" | "instances">;

/**
 * `GET .../terminal/recordings`, `GET .../terminal/recordings/:rid` (the asciicast file) and
 * `DELETE .../terminal/recordings/:rid` (audited). Users see and delete their own recordings only;
 * admins every recording of the instance. Another user's recording answers 404, like a missing one.
 */
export function addRecordingRoutes(r: Router, s: Services, recordings: Recordings): void {
  const tags = ["terminal"];
  const ownerOf = (user: { id: number; username: string; role: string }) => user.role === "admin" ? undefined : user;

  r.add({
    method: "GET",
    path: "/recordings",
    permission: "instance",
    summary: "Terminal recordings of an instance, newest first (users see their own, admins all)",
    tags,
  }, async (c, { user }) => {
    const instanceId = numericParam(c, "id");
    s.instances.get(instanceId);
    return c.json({ recordings: await recordings.list(instanceId, ownerOf(user)) });
  });

  r.add({
    method: "GET",
    path: "/recordings/:rid",
    permission: "instance",
    summary: "One terminal recording as an asciicast v2 file (attachment)",
    tags,
  }, async (c, { user }) => {
    const instanceId = numericParam(c, "id");
    s.instances.get(instanceId);
    const { info, path } = await recordings.get(instanceId, c.req.param("rid") ?? "", ownerOf(user));
    // Removed since it was looked up (retention, another tab): the same 404 as if it had never been there.
    const file = await Deno.open(path, { read: true }).catch((e) => {
      throw e instanceof Deno.errors.NotFound ? new AppError("NOT_FOUND", `No recording "${info.id}".`) : e;
    });
    const headers: Record<string, string> = {
      "content-type": "application/x-asciicast",
      "content-disposition": `attachment; filename="${info.id}.cast"`,
      "cache-control": "no-store",
    };
    // A recording still being written grows while it is read: no length then.
    if (!info.active) headers["content-length"] = String(info.bytes);
    return new Response(file.readable, { headers });
  });

  r.add({
    method: "DELETE",
    path: "/recordings/:rid",
    permission: "instance",
    summary: "Delete a terminal recording (its user, or an admin)",
    status: 204,
    tags,
  }, async (c, { user }) => {
    const instanceId = numericParam(c, "id");
    s.instances.get(instanceId);
    const { info } = await recordings.get(instanceId, c.req.param("rid") ?? "", ownerOf(user));
    await recordings.remove(instanceId, info.id);
    s.audit.record({
      actor: actorOf(c),
      action: "terminal.recording.delete",
      target: `instance:${instanceId}`,
      instanceId,
      details: { recording_id: info.id, session_id: info.session_id, user_id: info.user_id, user: info.user },
    });
    return c.body(null, 204);
  });
}
