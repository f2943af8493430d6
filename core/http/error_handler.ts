import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { AppError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { AppEnv } from "./env.ts";

/** Renders an error as an HTML page (for page requests). */
export type ErrorPage = (c: Context<AppEnv>, err: AppError) => Response | Promise<Response>;

/** Page requests (GET outside /api, /static and /metrics) get HTML error pages; everything else gets JSON. */
function wantsHtml(c: Context<AppEnv>): boolean {
  const path = c.req.path;
  return c.req.method === "GET" && !path.startsWith("/api/") && !path.startsWith("/static/") && path !== "/metrics";
}

/** Turns every thrown error into `{detail, code}` (or an HTML page); unexpected ones are logged, never leaked. */
export function errorHandler(log: Logger, page: ErrorPage): ErrorHandler<AppEnv> {
  return function handleError(err, c) {
    if (err instanceof AppError) return wantsHtml(c) ? page(c, err) : errorResponse(c, err);
    if (err instanceof HTTPException && err.status < 500) {
      const code = err.status === 413 ? "PAYLOAD_TOO_LARGE" : err.status === 401 ? "UNAUTHENTICATED" : "BAD_REQUEST";
      return errorResponse(c, new AppError(code, err.message || "Bad request."));
    }
    const ref = crypto.randomUUID().slice(0, 8);
    log.error("unhandled error", {
      ref,
      method: c.req.method,
      path: c.req.path,
      error: String(err),
      stack: (err as Error).stack,
    });
    return errorResponse(
      c,
      new AppError("INTERNAL", `Internal error (reference ${ref}); the operator can find it in the server log.`),
    );
  };
}

/** The JSON error response for an AppError. */
export function errorResponse(c: Context<AppEnv>, err: AppError): Response {
  return c.json(err.toBody(), err.status as 400, err.headers);
}

/** Unknown API paths answer JSON 404; other paths get the HTML page from `page`. */
export function notFoundHandler(page: ErrorPage): NotFoundHandler<AppEnv> {
  return function handleNotFound(c) {
    if (c.req.path.startsWith("/api/")) {
      return errorResponse(c, new AppError("NOT_FOUND", `No API route ${c.req.method} ${c.req.path}.`));
    }
    return page(c, new AppError("NOT_FOUND", `There is nothing at ${c.req.path}.`));
  };
}
