import { actorOf, AppError, type CoreServices } from "../../core/mod.ts";
import { sftpError } from "./remote_fs.ts";

/** The request context as core's handlers get it. */
export type RequestContext = Parameters<typeof actorOf>[0];

/** The file operations, each audited as `file.<op>`. */
export type FileOp = "browse" | "read" | "download" | "upload" | "create" | "mkdir" | "delete" | "rename";

/** What an audit entry of a file operation carries besides actor and outcome (never file contents). */
export interface FileOpDetails {
  path: string;
  size?: number;
  [key: string]: unknown;
}

/** Records one file operation: 400/403 refusals are `denied`, other errors `failure`. */
export function recordFileOp(
  audit: CoreServices["audit"],
  c: RequestContext,
  instanceId: number,
  op: FileOp,
  details: FileOpDetails,
  error?: unknown,
): void {
  const code = error instanceof AppError ? error.code : undefined;
  const outcome = error === undefined
    ? "success"
    : code === "FORBIDDEN" || code === "VALIDATION_FAILED" || code === "PAYLOAD_TOO_LARGE"
    ? "denied"
    : "failure";
  audit.record({
    actor: actorOf(c),
    action: `file.${op}`,
    target: details.path,
    instanceId,
    outcome,
    details: error === undefined ? details : { ...details, error: (error as Error)?.message ?? String(error) },
  });
}

/**
 * Runs `fn` and audits it: success with the details `fn` filled in, or the error's outcome (then
 * throws it, SFTP errors turned into AppErrors). `details.path` starts as the client's path, so refused paths are recorded as sent.
 */
export async function audited<T>(
  audit: CoreServices["audit"],
  c: RequestContext,
  instanceId: number,
  op: FileOp,
  details: FileOpDetails,
  fn: (details: FileOpDetails) => Promise<T>,
): Promise<T> {
  try {
    const result = await fn(details);
    recordFileOp(audit, c, instanceId, op, details);
    return result;
  } catch (err) {
    const error = sftpError(err, op);
    recordFileOp(audit, c, instanceId, op, details, error);
    throw error;
  }
}
