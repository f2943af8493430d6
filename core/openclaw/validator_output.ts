import { AppError } from "../errors.ts";

/** One finding of OpenClaw's validator: a dotted config path and what is wrong there. */
export interface ConfigIssue {
  path: string;
  message: string;
}

/** OpenClaw's verdict on a configuration. */
export interface ConfigCheck {
  valid: boolean;
  issues: ConfigIssue[];
  warnings: ConfigIssue[];
}

/**
 * Reads `openclaw config validate --json`'s answer (one JSON object on stdout, pretty-printed when
 * invalid, possibly after log lines). No JSON at all means the validator itself failed.
 */
export function parseValidatorOutput(out: { stdout: string; stderr: string; code: number | null }): ConfigCheck {
  const start = out.stdout.search(/^\{/m);
  let body: unknown = null;
  if (start >= 0) {
    try {
      body = JSON.parse(out.stdout.slice(start));
    } catch {
      body = null;
    }
  }
  if (!body || typeof body !== "object" || typeof (body as { valid?: unknown }).valid !== "boolean") {
    const why = (out.stderr || out.stdout).trim().slice(-300) || `exit code ${out.code}`;
    throw new AppError("AGENT_ERROR", `OpenClaw's validator did not answer: ${why}`);
  }
  const b = body as { valid: boolean; issues?: unknown; warnings?: unknown };
  return { valid: b.valid, issues: findings(b.issues), warnings: findings(b.warnings) };
}

function findings(list: unknown): ConfigIssue[] {
  if (!Array.isArray(list)) return [];
  return list.slice(0, 100).map((i) => ({
    path: String((i as ConfigIssue)?.path ?? ""),
    message: String((i as ConfigIssue)?.message ?? ""),
  }));
}
