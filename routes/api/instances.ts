import type { Router } from "../../core/http/router.ts";
import type { CoreServices } from "../../core/services.ts";

/** `/api/v1/instances`: the instances the caller may see (lifecycle routes arrive with the runtime backends). */
export function instanceRoutes(api: Router, s: CoreServices): void {
  const r = api.scope("/instances");
  r.add({
    method: "GET",
    path: "",
    permission: "authenticated",
    summary: "Instances visible to you",
    tags: ["instances"],
  }, (c, { user }) => c.json(s.instances.listFor(user)));
}
