import { z } from "zod";
import {
  actorOf,
  AppError,
  type ConfigIssue,
  type CoreServices,
  MAX_CONFIG_BYTES,
  numericParam,
  type Router,
} from "../../core/mod.ts";
import { jsonSyntaxError, syntaxIssue } from "./json_check.ts";
import { MANAGED_PATHS, managedPaths } from "./managed.ts";

export type ConfigServices = Pick<
  CoreServices,
  "agentConfig" | "settings" | "instances" | "audit" | "modelSync" | "lifecycle"
>;

/** Who may use the editor: admins always; assigned users when the `config_editor_access` setting says so. */
export function mayEditConfig(s: Pick<ConfigServices, "settings">, user: { role: string }): boolean {
  return user.role === "admin" || s.settings.get().config_editor_access === "assigned";
}

export const EDITOR_FORBIDDEN =
  "Only admins may edit OpenClaw's configuration on this Claworc (an admin can allow assigned users under " +
  'Settings → "Config editor").';

const MAX_CHARS = MAX_CONFIG_BYTES; // a character is at least one byte; the byte size is checked below

/** The editor's text: a string of at most 256 KiB (UTF-8). */
const content = z.string().max(MAX_CHARS).refine(
  (s) => new TextEncoder().encode(s).length <= MAX_CONFIG_BYTES,
  `openclaw.json may be at most ${MAX_CONFIG_BYTES / 1024} KiB.`,
);

export const validateBody = z.object({ content }).strict();
export const saveBody = z.object({
  content,
  base_hash: z.string().regex(/^[0-9a-f]{64}$/, "expected the hash the configuration was loaded with"),
}).strict();

/** The local verdict on the text: null when it is one JSON object, else the issue to answer. */
export function localIssue(text: string): ConfigIssue | null {
  const e = jsonSyntaxError(text);
  if (e) return syntaxIssue(e);
  try {
    JSON.parse(text);
  } catch (err) {
    // The scanner and the engine's parser should agree; if not, the parser has the last word.
    return { path: "<root>", message: `JSON syntax error at line 1 column 1: ${(err as Error).message}` };
  }
  return null;
}

/** `/api/v1/instances/:id/config`: OpenClaw's openclaw.json, read, checked with OpenClaw's validator, applied. */
export function addConfigRoutes(r: Router, s: ConfigServices): void {
  const tags = ["config"];
  /** The instance (404 when gone) once the caller may use the editor there. */
  const guard = (c: Parameters<typeof numericParam>[0], user: { role: string }) => {
    const id = numericParam(c, "id");
    const inst = s.instances.get(id);
    if (!mayEditConfig(s, user)) throw new AppError("FORBIDDEN", EDITOR_FORBIDDEN);
    return inst;
  };

  r.add({
    method: "GET",
    path: "",
    permission: "instance",
    summary: "The instance's openclaw.json, its hash (for saving) and the paths Claworc's models feature manages",
    tags,
  }, async (c, { user }) => {
    const inst = guard(c, user);
    const { content, hash } = await s.agentConfig.read(inst.id);
    // What the models feature writes into this instance now (the editor works without it).
    const owned = await s.modelSync.target(inst.id).then((t) => t.managed.owned, () => []);
    return c.json({
      content,
      hash,
      max_bytes: MAX_CONFIG_BYTES,
      managed: MANAGED_PATHS.map((m) => m.path),
      managed_now: managedPaths(owned),
    });
  });

  r.add({
    method: "POST",
    path: "/validate",
    permission: "instance",
    summary: "Check a configuration with OpenClaw's own validator (JSON syntax is checked here first)",
    body: validateBody,
    tags,
  }, async (c, { body, user }) => {
    const inst = guard(c, user);
    const issue = localIssue(body.content);
    if (issue) return c.json({ valid: false, issues: [issue], warnings: [] });
    return c.json(await s.agentConfig.validate(inst.id, body.content));
  });

  r.add({
    method: "PUT",
    path: "",
    permission: "instance",
    summary: "Replace openclaw.json: validated by OpenClaw, written atomically, gateway restarted " +
      "(the previous file comes back when the gateway does not)",
    body: saveBody,
    tags,
  }, async (c, { body, user }) => {
    const inst = guard(c, user);
    const size = new TextEncoder().encode(body.content).length;
    const audit = (outcome: "success" | "failure", details: Record<string, unknown>) =>
      s.audit.record({
        actor: actorOf(c),
        action: "config.update",
        target: inst.name,
        instanceId: inst.id,
        outcome,
        details: { size, base_hash: body.base_hash, ...details },
      });
    // A save restarts the gateway; during a creation or redeploy that would fail the operation's own wait.
    const busy = s.lifecycle.busy(inst.id);
    if (busy) {
      audit("failure", { code: "INSTANCE_BUSY" });
      throw new AppError(
        "INSTANCE_BUSY",
        `Instance ${inst.id} is ${busy}; change its configuration when that has finished (nothing was changed).`,
      );
    }
    const issue = localIssue(body.content);
    if (issue) {
      audit("failure", { code: "CONFIG_INVALID", reason: "JSON syntax" });
      throw new AppError("CONFIG_INVALID", "This is not a JSON object; nothing was changed.", {}, {
        issues: [issue],
      });
    }
    try {
      const applied = await s.agentConfig.apply(inst.id, { config: body.content, baseHash: body.base_hash });
      audit("success", { hash: applied.hash, duration_ms: applied.duration_ms });
      return c.json(applied);
    } catch (e) {
      const code = e instanceof AppError ? e.code : "INTERNAL";
      audit("failure", { code, ...(code === "CONFIG_INVALID" ? { issues: issueCount(e) } : {}) });
      throw e;
    }
  });
}

function issueCount(e: unknown): number {
  const issues = (e as AppError).extra?.issues;
  return Array.isArray(issues) ? issues.length : 0;
}
