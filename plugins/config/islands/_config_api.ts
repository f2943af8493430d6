/**
 * The config editor's calls to its API. Like `islands/_api.ts`, but a failed call keeps the whole
 * error body: a refused configuration comes with OpenClaw's `issues` or the gateway's `gateway_log`.
 */
export class ConfigCallError extends Error {
  readonly status: number;
  readonly code: string;
  readonly body: Record<string, unknown>;

  constructor(status: number, code: string, message: string, body: Record<string, unknown>) {
    super(message);
    this.name = "ConfigCallError";
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

/** One issue or warning of OpenClaw's validator (or of the local JSON check, at path `<root>`). */
export interface Finding {
  path: string;
  message: string;
}

export interface Loaded {
  content: string;
  hash: string;
  max_bytes: number;
  managed: string[];
  managed_now: string[];
}

export interface Verdict {
  valid: boolean;
  issues: Finding[];
  warnings: Finding[];
}

export interface Saved {
  hash: string;
  warnings: Finding[];
  duration_ms: number;
}

/** Calls `/api/v1/instances/{id}/config{suffix}`; rejects with a `ConfigCallError` for anything but 2xx. */
export async function configCall<T>(
  instanceId: number,
  method: "GET" | "POST" | "PUT",
  suffix = "",
  body?: unknown,
): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const init: RequestInit = { method, credentials: "same-origin", headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res: Response;
  try {
    res = await fetch(`/api/v1/instances/${instanceId}/config${suffix}`, init);
  } catch {
    throw new ConfigCallError(0, "NETWORK", "Could not reach the server; check your connection and try again.", {});
  }
  const text = await res.text().catch(() => "");
  let data: Record<string, unknown> = {};
  try {
    const parsed = text ? JSON.parse(text) : {};
    if (parsed && typeof parsed === "object") data = parsed;
  } catch { /* not JSON: keep {} */ }
  if (!res.ok) {
    const detail = typeof data.detail === "string" && data.detail ? data.detail : `Request failed (${res.status}).`;
    throw new ConfigCallError(
      res.status,
      typeof data.code === "string" ? data.code : `HTTP_${res.status}`,
      detail,
      data,
    );
  }
  return data as T;
}

/** The findings in an error body's `issues` (OpenClaw's refusal), or none. */
export function findingsOf(body: Record<string, unknown>): Finding[] {
  const list = body.issues;
  if (!Array.isArray(list)) return [];
  return list.map((i) => ({ path: String(i?.path ?? ""), message: String(i?.message ?? "") }));
}
