import { z } from "zod";
import { actorOf } from "../../core/audit/actor.ts";
import { numericParam, type Router } from "../../core/http/router.ts";
import type { CoreServices } from "../../core/services.ts";

const quantity = z.string().trim().regex(/^\d+(\.\d+)?m?$/, "must be a CPU quantity such as 500m or 2");
const memory = z.string().trim().regex(/^\d+(\.\d+)?(Ki|Mi|Gi|Ti)?$/, "must be a memory quantity such as 512Mi or 4Gi");

const createBody = z.object({
  display_name: z.string().trim().min(1, "is required").max(100),
  image: z.string().trim().min(1).max(255).optional(),
  cpu_limit: quantity.optional(),
  memory_limit: memory.optional(),
});

/** `/api/v1/instances`: list what you may see; admins create and delete; assigned users start/stop/restart. */
export function instanceRoutes(api: Router, s: CoreServices): void {
  const r = api.scope("/instances");
  const tags = ["instances"];
  r.add(
    { method: "GET", path: "", permission: "authenticated", summary: "Instances visible to you", tags },
    (c, { user }) => c.json(s.instances.listFor(user)),
  );

  r.add({
    method: "POST",
    path: "",
    permission: "admin",
    summary: "Create an instance (answers at once with status creating)",
    body: createBody,
    status: 201,
    tags,
  }, (c, { body }) => {
    const { instance } = s.lifecycle.create(body, actorOf(c));
    return c.json(instance, 201);
  });

  r.add(
    { method: "GET", path: "/:id", permission: "instance", summary: "One instance", tags },
    (c) => c.json(s.instances.get(numericParam(c, "id"))),
  );

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
}
