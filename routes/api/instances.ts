import { z } from "zod";
import { actorOf } from "../../core/audit/actor.ts";
import { numericParam, type Router } from "../../core/http/router.ts";
import { cpuQuantity, imageRef, memoryQuantity, vncResolution } from "../../core/instances/quantities.ts";
import type { InstanceSummary } from "../../core/instances/instances.ts";
import type { CoreServices } from "../../core/services.ts";

const displayName = z.string().trim().min(1, "is required").max(100);

const createBody = z.object({
  display_name: displayName,
  image: imageRef.optional(),
  cpu_limit: cpuQuantity.optional(),
  memory_limit: memoryQuantity.optional(),
  vnc_resolution: vncResolution.optional(),
}).strict();

const updateBody = z.object({
  display_name: displayName.optional(),
  cpu_limit: cpuQuantity.optional(),
  memory_limit: memoryQuantity.optional(),
  vnc_resolution: vncResolution.optional(),
}).strict().refine((b) => Object.keys(b).length > 0, "name at least one field to change");

const redeployBody = z.object({ image: imageRef.optional() }).strict();
const reorderBody = z.object({
  instance_ids: z.array(z.number().int().positive()).min(1).max(10_000)
    .refine((ids) => new Set(ids).size === ids.length, "must not repeat an id"),
}).strict();

/** `/api/v1/instances`: list what you may see; admins create, change, clone, redeploy and delete; assigned users start/stop/restart. */
export function instanceRoutes(api: Router, s: CoreServices): void {
  const r = api.scope("/instances");
  const tags = ["instances"];
  r.add(
    { method: "GET", path: "", permission: "authenticated", summary: "Instances visible to you", tags },
    (c, { user }) => {
      // Each with its SSH connection's state (the dashboard's badge), set on the list's own fresh rows.
      const list: (InstanceSummary & { ssh_state?: string })[] = s.instances.listFor(user);
      for (const i of list) i.ssh_state = s.ssh.state(i.id);
      return c.json(list);
    },
  );

  r.add({
    method: "POST",
    path: "",
    permission: "admin",
    summary: "Create an instance (answers at once with status creating; follow its operation)",
    body: createBody,
    status: 201,
    tags,
  }, (c, { body }) => {
    const { instance } = s.lifecycle.create(body, actorOf(c));
    return c.json({ ...instance, operation: s.operations.latest(instance.id) ?? null }, 201);
  });

  r.add({
    method: "PUT",
    path: "/reorder",
    permission: "admin",
    summary: "Put instances in this order (the ids given first)",
    body: reorderBody,
    tags,
  }, (c, { body }) => {
    s.instances.reorder(body.instance_ids);
    s.audit.record({
      actor: actorOf(c),
      action: "instance.reorder",
      target: "instances",
      details: { instance_ids: body.instance_ids },
    });
    return c.json({ ok: true });
  });

  r.add(
    { method: "GET", path: "/:id", permission: "instance", summary: "One instance", tags },
    (c) => {
      const id = numericParam(c, "id");
      return c.json({ ...s.instances.get(id), busy: s.lifecycle.busy(id) ?? null });
    },
  );

  r.add(
    {
      method: "GET",
      path: "/:id/operation",
      permission: "instance",
      summary: "The instance's latest long operation (create, clone, redeploy) with its steps",
      tags,
    },
    (c) => {
      const id = numericParam(c, "id");
      s.instances.get(id);
      return c.json(s.operations.latest(id) ?? null);
    },
  );

  r.add({
    method: "PUT",
    path: "/:id",
    permission: "admin",
    summary: "Rename or re-size an instance (CPU and memory apply live; resolution at the next restart)",
    body: updateBody,
    tags,
  }, async (c, { body }) => {
    const id = numericParam(c, "id");
    const { restart_required } = await s.lifecycle.update(id, body, actorOf(c));
    return c.json({ ...s.instances.get(id), restart_required });
  });

  r.add({
    method: "DELETE",
    path: "/:id",
    permission: "admin",
    summary: "Delete an instance, its container and its volumes",
    status: 204,
    tags,
  }, async (c) => {
    await s.lifecycle.delete(numericParam(c, "id"), actorOf(c));
    return c.body(null, 204);
  });

  for (const action of ["start", "stop", "restart"] as const) {
    r.add({
      method: "POST",
      path: `/:id/${action}`,
      permission: "instance",
      summary: `${action[0].toUpperCase()}${action.slice(1)} an instance`,
      tags,
    }, async (c) => {
      const inst = await s.lifecycle[action](numericParam(c, "id"), actorOf(c));
      return c.json({ status: inst.status });
    });
  }

  r.add({
    method: "POST",
    path: "/:id/clone",
    permission: "admin",
    summary: "Create a copy of an instance with its data (answers at once; follow the new instance's operation)",
    status: 201,
    tags,
  }, (c) => {
    const { instance } = s.lifecycle.clone(numericParam(c, "id"), actorOf(c));
    return c.json({ ...instance, operation: s.operations.latest(instance.id) ?? null }, 201);
  });

  r.add({
    method: "POST",
    path: "/:id/update-image",
    permission: "admin",
    summary: "Redeploy: recreate the container from a new or updated image, keeping every volume",
    body: redeployBody,
    status: 202,
    tags,
  }, async (c, { body }) => {
    const id = numericParam(c, "id");
    await s.lifecycle.redeploy(id, body.image, actorOf(c));
    return c.json({ ...s.instances.get(id), operation: s.operations.latest(id) ?? null }, 202);
  });
}
