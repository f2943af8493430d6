import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { Config } from "../config.ts";
import type { AppEnv } from "./env.ts";

export const SESSION_COOKIE = "claworc_session";

/** Secure when configured, or in `auto` mode when the public URL or the request is HTTPS. */
export function cookieIsSecure(c: Context<AppEnv>, config: Config): boolean {
  if (config.cookieSecure !== "auto") return config.cookieSecure;
  if (config.publicUrl) return config.publicUrl.protocol === "https:";
  if (config.trustProxy && c.req.header("x-forwarded-proto") === "https") return true;
  return new URL(c.req.url).protocol === "https:";
}

export function readSessionCookie(c: Context<AppEnv>): string | undefined {
  return getCookie(c, SESSION_COOKIE);
}

/** HttpOnly + SameSite=Strict; lives as long as the session's absolute lifetime. */
export function writeSessionCookie(c: Context<AppEnv>, config: Config, token: string): void {
  setCookie(c, SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: "Strict",
    secure: cookieIsSecure(c, config),
    path: "/",
    maxAge: Math.floor(config.sessionMaxMs / 1000),
  });
}

export function clearSessionCookie(c: Context<AppEnv>, config: Config): void {
  deleteCookie(c, SESSION_COOKIE, { path: "/", secure: cookieIsSecure(c, config), httpOnly: true, sameSite: "Strict" });
}
