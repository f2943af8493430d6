import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { AppError } from "../core/errors.ts";
import type { Router } from "../core/http/router.ts";

const STATIC_DIR = fileURLToPath(new URL("../static/", import.meta.url));

const TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".woff2": "font/woff2",
  ".map": "application/json",
};

/** `GET /static/*`: the stylesheet, images and island bundles, confined to the static folder. */
export function staticRoutes(root: Router): void {
  root.add({
    method: "GET",
    path: "/static/*",
    permission: "public",
    kind: "page",
    summary: "Static assets",
    tags: ["system"],
  }, async (c) => {
    let rel: string;
    try {
      rel = decodeURIComponent(c.req.path.slice("/static/".length));
    } catch {
      throw new AppError("NOT_FOUND", "No such asset.");
    }
    const path = normalize(join(STATIC_DIR, rel));
    const type = TYPES[extname(path)];
    if (!path.startsWith(STATIC_DIR) || rel.includes("\0") || !type) throw new AppError("NOT_FOUND", "No such asset.");
    let body: Uint8Array;
    try {
      body = await Deno.readFile(path);
    } catch {
      throw new AppError("NOT_FOUND", `No such asset: ${rel}`);
    }
    return c.body(body as Uint8Array<ArrayBuffer>, 200, {
      "Content-Type": type,
      "Cache-Control": "public, max-age=300",
    });
  });
}
