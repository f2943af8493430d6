import { actorOf } from "../../core/audit/actor.ts";
import type { Router } from "../../core/http/router.ts";
import type { CoreServices } from "../../core/services.ts";
import { settingsSchema } from "../../core/settings/settings.ts";
import { checkPolicyChange } from "../../core/auth/passkeys/sign_in_policy.ts";

/** `/api/v1/settings`: run-time settings (admin). Unknown keys are refused, never stored. */
export function settingsRoutes(api: Router, s: CoreServices): void {
  const r = api.scope("/settings");
  const tags = ["settings"];
  r.add(
    { method: "GET", path: "", permission: "admin", summary: "Current settings", tags },
    (c) => c.json(s.settings.get()),
  );
  r.add({
    method: "PUT",
    path: "",
    permission: "admin",
    summary: "Change settings (applied without restart)",
    body: settingsSchema.partial(),
    tags,
  }, (c, { body }) => {
    const before = s.settings.get();
    const touchesPolicy = body.password_sign_in !== undefined || body.admin_passkey_required !== undefined;
    if (touchesPolicy) checkPolicyChange({ ...before, ...body }, s.passkeys.store);
    const { values, changed } = s.settings.update(body);
    if (changed.length) {
      const diff = Object.fromEntries(changed.map((k) => [k, { from: before[k], to: values[k] }]));
      s.audit.record({ actor: actorOf(c), action: "settings.update", target: "settings", details: diff });
    }
    return c.json(values);
  });
  r.add({
    method: "POST",
    path: "/rotate-ssh-key",
    permission: "admin",
    summary: "Rotate the global SSH key on every instance without downtime",
    tags,
  }, async (c) => {
    const report = await s.keyRotation.rotate(actorOf(c));
    return c.json(report);
  });
}
