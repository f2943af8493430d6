import { api } from "../../../islands/_api.ts";

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

/** Calls `/api/v1/instances/{id}/config{suffix}`; rejects with an `ApiError` for anything but 2xx,
 * whose `body` keeps OpenClaw's `issues` or the gateway's `gateway_log`. */
export function configCall<T>(
  instanceId: number,
  method: "GET" | "POST" | "PUT",
  suffix = "",
  body?: unknown,
): Promise<T> {
  return api<T>(method, `/api/v1/instances/${instanceId}/config${suffix}`, body);
}

/** The findings in an error body's `issues` (OpenClaw's refusal), or none. */
export function findingsOf(body: Record<string, unknown>): Finding[] {
  const list = body.issues;
  if (!Array.isArray(list)) return [];
  return list.map((i) => ({ path: String(i?.path ?? ""), message: String(i?.message ?? "") }));
}
