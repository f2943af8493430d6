import type { Context } from "hono";

/**
 * The origin a browser addressed this request to: its Host header with the request's scheme, or the
 * scheme a trusted proxy reports in `X-Forwarded-Proto` (TLS ends at the proxy, which talks plain HTTP to us).
 */
export function requestOrigin(c: Context, trustProxy: boolean): string | undefined {
  const url = new URL(c.req.url);
  const host = c.req.header("host") ?? url.host;
  if (!host) return undefined;
  const forwarded = trustProxy ? c.req.header("x-forwarded-proto")?.split(",")[0].trim().toLowerCase() : undefined;
  const scheme = forwarded === "https" || forwarded === "http" ? forwarded : url.protocol.slice(0, -1);
  return `${scheme}://${host}`;
}
