import { AppError } from "../errors.ts";
import type { SessionUser } from "../auth/sessions.ts";

/**
 * What a route requires. Every route declares one (the router refuses a route without), and the
 * authorization-matrix test checks each against anonymous, user, assigned user and admin callers.
 * - `public`: anyone, signed in or not.
 * - `authenticated`: any signed-in user.
 * - `instance`: a signed-in user assigned to the instance in the `:id` path parameter, or an admin.
 * - `admin`: admins only.
 * - `metrics`: admins, or a scraper presenting the configured metrics token.
 */
export type Permission = "public" | "authenticated" | "instance" | "admin" | "metrics";

export const PERMISSIONS: readonly Permission[] = ["public", "authenticated", "instance", "admin", "metrics"];

/** Answers "may this user touch that instance?" (admins: always; users: when assigned). */
export type InstanceAccess = (user: SessionUser, instanceId: number) => boolean;

/** Throws the right AppError when `user` lacks `permission`; returns the instance id for `instance` routes. */
export function authorize(
  permission: Permission,
  user: SessionUser | undefined,
  params: Record<string, string>,
  canAccess: InstanceAccess,
  metricsToken = false,
): void {
  if (permission === "public" || (permission === "metrics" && metricsToken)) return;
  if (!user) throw new AppError("UNAUTHENTICATED", "Sign in to continue.");
  if (permission === "authenticated") return;
  if (permission === "admin" || permission === "metrics") {
    if (user.role !== "admin") throw new AppError("FORBIDDEN", "This action needs the admin role.");
    return;
  }
  const id = parseId(params.id, "instance id");
  // Unassigned and missing instances look the same to users, so ids cannot be probed.
  if (!canAccess(user, id)) throw new AppError("FORBIDDEN", `You do not have access to instance ${id}.`);
}

/** Parses a numeric path id; 400 naming the parameter otherwise. */
export function parseId(raw: string | undefined, what: string): number {
  if (!raw || !/^[1-9]\d{0,15}$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new AppError("BAD_REQUEST", `Invalid ${what} "${raw ?? ""}": expected a positive integer.`);
  }
  return Number(raw);
}
