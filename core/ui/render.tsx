import type { Context } from "hono";
import type { VNode } from "preact";
import { render } from "preact-render-to-string";
import type { AppEnv } from "../http/env.ts";

/** Sends a server-rendered page. */
export function sendPage(c: Context<AppEnv>, page: VNode, status = 200): Response {
  c.header("Cache-Control", "no-store");
  return c.html("<!doctype html>" + render(page), status as 200);
}
