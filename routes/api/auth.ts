import { AppError } from "../../core/errors.ts";
import { actorOf } from "../../core/audit/actor.ts";
import { dummyHash, verifyPassword } from "../../core/auth/passwords.ts";
import { clearSessionCookie, writeSessionCookie } from "../../core/http/session_cookie.ts";
import type { Router } from "../../core/http/router.ts";
import type { CoreServices } from "../../core/services.ts";
import { changePasswordBody, credentials, setupBody } from "./schemas.ts";
import type { Context } from "hono";
import type { AppEnv } from "../../core/http/env.ts";
import type { User } from "../../core/users/users.ts";
import { passwordRefusal } from "../../core/auth/passkeys/sign_in_policy.ts";

/** The refusal of a throttled sign-in (password or passkey), with when to try again. */
export function signInThrottled(waitMs: number): AppError {
  const seconds = Math.ceil(waitMs / 1000);
  return new AppError("RATE_LIMITED", `Too many failed sign-ins; try again in ${seconds} s.`, {
    "Retry-After": String(seconds),
  });
}

/** Checks a username and password with throttling and auditing; the signed-in user or an AppError. */
export async function checkCredentials(
  c: Context<AppEnv>,
  s: CoreServices,
  name: string,
  password: string,
  action: "auth.login" | "auth.password_change" = "auth.login",
): Promise<User> {
  const ip = c.get("clientIp");
  const wait = s.throttle.retryAfterMs(name, ip);
  const actor = c.get("user") ? actorOf(c) : { id: null, name, ip };
  if (wait > 0) {
    s.audit.record({ actor, action, target: name, outcome: "denied", details: { reason: "throttled" } });
    throw signInThrottled(wait);
  }
  const found = s.users.credentials(name);
  const ok = found
    ? await verifyPassword(password, found.password_hash)
    : (await verifyPassword(password, await dummyHash()), false);
  if (!found || !ok) {
    s.throttle.fail(name, ip);
    s.audit.record({
      actor,
      action,
      target: name,
      outcome: "failure",
      details: { reason: found ? "wrong password" : "unknown user" },
    });
    throw new AppError("INVALID_CREDENTIALS", "Invalid username or password.");
  }
  s.throttle.succeed(name);
  const { password_hash: _, ...user } = found;
  return user;
}

/** Starts a session for `user` and sets the cookie. */
export function signIn(c: Context<AppEnv>, s: CoreServices, user: User): void {
  const token = s.sessions.create(user.id, c.get("clientIp"), c.req.header("user-agent") ?? "");
  writeSessionCookie(c, s.config, token);
}

/** Ends the caller's session and clears the cookie. */
export function signOut(c: Context<AppEnv>, s: CoreServices): void {
  const token = c.get("sessionToken");
  const user = c.get("user");
  if (token) s.sessions.destroy(token);
  clearSessionCookie(c, s.config);
  if (user) s.audit.record({ actor: actorOf(c), action: "auth.logout", target: user.username });
}

/** `/api/v1/auth/*`: first-run setup, sign-in, sign-out, who am I, change password. */
export function authRoutes(api: Router, s: CoreServices): void {
  const r = api.scope("/auth");
  const tags = ["auth"];

  r.add({
    method: "GET",
    path: "/setup-required",
    permission: "public",
    summary: "Whether the first admin still has to be created",
    tags,
  }, (c) => c.json({ setup_required: s.users.count() === 0 }));

  r.add({
    method: "POST",
    path: "/setup",
    permission: "public",
    summary: "Create the first admin and sign in",
    body: setupBody,
    status: 201,
    tags,
  }, async (c, { body }) => {
    if (s.users.count() > 0) throw new AppError("SETUP_DONE", "Setup is already complete; sign in instead.");
    const user = await s.users.createFirstAdmin(body.username, body.password);
    signIn(c, s, user);
    s.audit.record({
      actor: { id: user.id, name: user.username, ip: c.get("clientIp") },
      action: "auth.setup",
      target: user.username,
    });
    return c.json({ id: user.id, username: user.username, role: user.role }, 201);
  });

  r.add({
    method: "POST",
    path: "/login",
    permission: "public",
    summary: "Sign in with username and password",
    body: credentials,
    tags,
  }, async (c, { body }) => {
    const user = await checkCredentials(c, s, body.username, body.password);
    // The policy is checked after the password, so it never tells a guesser anything about an account.
    const refusal = passwordRefusal(s.settings.get(), user, s.passkeys.store);
    const recovered = s.recovery.spend(user.id);
    if (refusal && !recovered) {
      s.audit.record({
        actor: { id: user.id, name: user.username, ip: c.get("clientIp") },
        action: "auth.login",
        target: user.username,
        outcome: "denied",
        details: { method: "password", reason: refusal },
      });
      throw new AppError("PASSKEY_REQUIRED", `Password sign-in refused: ${refusal}.`);
    }
    signIn(c, s, user);
    s.audit.record({
      actor: { id: user.id, name: user.username, ip: c.get("clientIp") },
      action: "auth.login",
      target: user.username,
      details: { method: "password", ...(recovered ? { recovery: true } : {}) },
    });
    return c.json({ id: user.id, username: user.username, role: user.role });
  });

  r.add({ method: "POST", path: "/logout", permission: "authenticated", summary: "Sign out", tags }, (c) => {
    signOut(c, s);
    return c.json({ status: "ok" });
  });

  r.add({
    method: "POST",
    path: "/logout-everywhere",
    permission: "authenticated",
    summary: "Sign out on every device (all your sessions end, this one too)",
    tags,
  }, (c, { user }) => {
    const ended = s.sessions.destroyForUser(user.id);
    clearSessionCookie(c, s.config);
    s.audit.record({ actor: actorOf(c), action: "auth.logout_everywhere", target: user.username, details: { ended } });
    return c.json({ status: "ok", ended });
  });

  r.add(
    { method: "GET", path: "/me", permission: "authenticated", summary: "The signed-in user", tags },
    (c, { user }) => c.json({ id: user.id, username: user.username, role: user.role }),
  );

  r.add({
    method: "POST",
    path: "/change-password",
    permission: "authenticated",
    summary: "Change your own password (other sessions end)",
    body: changePasswordBody,
    tags,
  }, async (c, { body, user }) => {
    try {
      await checkCredentials(c, s, user.username, body.current_password, "auth.password_change");
    } catch (e) {
      if (e instanceof AppError && e.code === "INVALID_CREDENTIALS") {
        throw new AppError("INVALID_CREDENTIALS", "The current password is wrong.");
      }
      throw e;
    }
    await s.users.setPassword(user.id, body.new_password);
    const ended = s.sessions.destroyForUser(user.id, c.get("sessionToken"));
    s.audit.record({
      actor: actorOf(c),
      action: "auth.password_change",
      target: user.username,
      details: { other_sessions_ended: ended },
    });
    return c.json({ status: "ok" });
  });
}
