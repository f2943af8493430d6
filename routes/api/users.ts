import { AppError } from "../../core/errors.ts";
import { actorOf } from "../../core/audit/actor.ts";
import { numericParam, type Router } from "../../core/http/router.ts";
import type { CoreServices } from "../../core/services.ts";
import { assignmentsBody, createUserBody, resetPasswordBody, roleBody } from "./schemas.ts";

/** `/api/v1/users/*`: admin user management (parity with the reference's §2.6, plus safety checks). */
export function userRoutes(api: Router, s: CoreServices): void {
  const r = api.scope("/users");
  const tags = ["users"];

  r.add(
    { method: "GET", path: "", permission: "admin", summary: "List users (with their number of passkeys)", tags },
    (c) => c.json(listUsers(s)),
  );

  r.add({
    method: "POST",
    path: "",
    permission: "admin",
    summary: "Create a user",
    body: createUserBody,
    status: 201,
    tags,
  }, async (c, { body }) => {
    const user = await s.users.create(body.username, body.password, body.role);
    s.audit.record({
      actor: actorOf(c),
      action: "user.create",
      target: user.username,
      details: { user_id: user.id, role: user.role },
    });
    return c.json({ id: user.id, username: user.username, role: user.role }, 201);
  });

  r.add({
    method: "DELETE",
    path: "/:userId",
    permission: "admin",
    summary: "Delete a user (not yourself)",
    status: 204,
    tags,
  }, (c, { user: me }) => {
    const id = numericParam(c, "userId");
    if (id === me.id) throw new AppError("SELF_ACTION", "You cannot delete your own account.");
    const user = s.users.delete(id);
    s.audit.record({ actor: actorOf(c), action: "user.delete", target: user.username, details: { user_id: id } });
    return c.body(null, 204);
  });

  r.add({
    method: "PUT",
    path: "/:userId/role",
    permission: "admin",
    summary: "Change a user's role (ends their sessions)",
    body: roleBody,
    tags,
  }, (c, { body, user: me }) => {
    const id = numericParam(c, "userId");
    if (id === me.id && body.role !== "admin") throw new AppError("SELF_ACTION", "You cannot demote yourself.");
    const before = s.users.get(id);
    const user = s.users.setRole(id, body.role);
    if (before.role !== user.role) s.sessions.destroyForUser(id);
    s.audit.record({
      actor: actorOf(c),
      action: "user.role_change",
      target: user.username,
      details: { user_id: id, from: before.role, to: user.role },
    });
    return c.json({ status: "ok", ...user });
  });

  r.add({
    method: "GET",
    path: "/:userId/instances",
    permission: "admin",
    summary: "Instances assigned to a user",
    tags,
  }, (c) => {
    const id = numericParam(c, "userId");
    s.users.get(id);
    return c.json({ instance_ids: s.users.assignedInstanceIds(id) });
  });

  r.add({
    method: "PUT",
    path: "/:userId/instances",
    permission: "admin",
    summary: "Replace a user's instance assignments",
    body: assignmentsBody,
    tags,
  }, (c, { body }) => {
    const id = numericParam(c, "userId");
    const before = s.users.assignedInstanceIds(id);
    const after = s.users.setAssignedInstances(id, body.instance_ids);
    s.audit.record({
      actor: actorOf(c),
      action: "user.assignments_change",
      target: s.users.get(id).username,
      details: { user_id: id, from: before, to: after },
    });
    return c.json({ instance_ids: after });
  });

  r.add({
    method: "POST",
    path: "/:userId/reset-password",
    permission: "admin",
    summary: "Set a user's password (ends their sessions)",
    body: resetPasswordBody,
    tags,
  }, async (c, { body }) => {
    const id = numericParam(c, "userId");
    const user = s.users.get(id);
    await s.users.setPassword(id, body.password);
    const ended = s.sessions.destroyForUser(id, id === c.get("user")?.id ? c.get("sessionToken") : undefined);
    s.audit.record({
      actor: actorOf(c),
      action: "user.password_reset",
      target: user.username,
      details: { user_id: id, sessions_ended: ended },
    });
    return c.json({ status: "ok" });
  });
}

/** Every user with how many passkeys they hold (admins check this before requiring passkeys). */
export function listUsers(s: CoreServices) {
  const counts = s.passkeys.store.counts();
  return s.users.list().map((u) => ({ ...u, passkeys: counts.get(u.id) ?? 0 }));
}
