import { useEffect, useState } from "preact/hooks";

/**
 * A failed API call: the HTTP status, the server's machine-readable `code`, its `detail` as the
 * message, and the whole error body (some errors carry more, e.g. a refused configuration's `issues`).
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly body: Record<string, unknown>;

  constructor(status: number, code: string, message: string, body: Record<string, unknown> = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/**
 * Calls the JSON API of this origin with the session cookie. Resolves with the parsed body
 * (`undefined` for 204 or an empty body); rejects with an `ApiError` for any non-2xx answer
 * and for network failures (status 0, code `NETWORK`).
 */
export async function api<T>(method: Method, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const init: RequestInit = { method, credentials: "same-origin", headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res: Response;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, "NETWORK", "Could not reach the server; check your connection and try again.");
  }
  const text = res.status === 204 ? "" : await res.text().catch(() => "");
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
  }
  if (!res.ok) {
    const err = (data && typeof data === "object" ? data : {}) as Record<string, unknown>;
    const detail = typeof err.detail === "string" && err.detail
      ? err.detail
      : `Request failed (${res.status}${res.statusText ? " " + res.statusText : ""}).`;
    throw new ApiError(res.status, typeof err.code === "string" ? err.code : "HTTP_" + res.status, detail, err);
  }
  return data as T;
}

/** A message fit to show to people for anything thrown by `api` (or by mistake elsewhere). */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error && e.message) return e.message;
  return "Something went wrong; please try again.";
}

/**
 * False during server rendering and the first client render (so hydration matches), true once the
 * island runs in the browser. Forms disable their submit buttons until then, so nothing is posted
 * the plain-HTML way (which would put field values, passwords included, into a URL).
 */
export function useHydrated(): boolean {
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);
  return hydrated;
}
