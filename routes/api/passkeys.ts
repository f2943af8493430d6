import type { Context } from "hono";
import { actorOf } from "../../core/audit/actor.ts";
import { AppError } from "../../core/errors.ts";
import type { AppEnv } from "../../core/http/env.ts";
import type { Router } from "../../core/http/router.ts";
import type { CoreServices } from "../../core/services.ts";
import { relyingParty } from "../../core/auth/passkeys/relying_party.ts";
import { requestOrigin } from "../../core/http/request_origin.ts";
import { checkPasskeyRemoval } from "../../core/auth/passkeys/sign_in_policy.ts";
import { signIn, signInThrottled } from "./auth.ts";
import {
  credentialId,
  registerFinishBody,
  registerFinishQuery,
  renameBody,
  signInBeginBody,
  signInFinishBody,
} from "./passkey_schemas.ts";

const rpOf = (c: Context<AppEnv>, s: CoreServices) =>
  relyingParty(s.config, requestOrigin(c, s.config.trustProxy) ?? new URL(c.req.url).origin);

/** The `:credId` path parameter; 400 when it cannot be a passkey id. */
function credentialParam(c: Context<AppEnv>): string {
  const raw = c.req.param("credId") ?? "";
  if (!credentialId.safeParse(raw).success) {
    throw new AppError(
      "BAD_REQUEST",
      `Invalid passkey id "${raw.slice(0, 40)}": expected base64url of 16+ characters.`,
    );
  }
  return raw;
}

/** Audit target for a passkey: the account and the start of the credential id (enough to tell them apart). */
const passkeyTarget = (username: string, id: string) => `${username}/${id.slice(0, 12)}`;

/** `/api/v1/auth/webauthn/*`: passkey registration, management and sign-in (reference §2.1–2.2 paths). */
export function passkeyRoutes(api: Router, s: CoreServices): void {
  const r = api.scope("/auth/webauthn");
  const tags = ["passkeys"];

  r.add({
    method: "POST",
    path: "/register/begin",
    permission: "authenticated",
    summary: "Options for creating a passkey for your account, with the challenge's id",
    tags,
  }, async (c, { user }) => c.json(await s.passkeys.beginRegistration(s.users.get(user.id), rpOf(c, s))));

  r.add({
    method: "POST",
    path: "/register/finish",
    permission: "authenticated",
    summary: "Verify and store a new passkey (name in the body or `?name=`)",
    body: registerFinishBody,
    query: registerFinishQuery,
    status: 201,
    tags,
  }, async (c, { body, query, user }) => {
    const name = body.name ?? query.name ?? `Passkey ${new Date(s.clock.now()).toISOString().slice(0, 10)}`;
    try {
      const passkey = await s.passkeys.finishRegistration(
        s.users.get(user.id),
        body.challenge_id,
        body.response,
        name,
        rpOf(c, s),
      );
      s.audit.record({
        actor: actorOf(c),
        action: "auth.passkey.register",
        target: passkeyTarget(user.username, passkey.id),
        details: { name, device_type: passkey.device_type, backed_up: passkey.backed_up },
      });
      return c.json(passkey, 201);
    } catch (e) {
      if (e instanceof AppError) {
        s.audit.record({
          actor: actorOf(c),
          action: "auth.passkey.register",
          target: user.username,
          outcome: "failure",
          details: { reason: e.message.slice(0, 200) },
        });
      }
      throw e;
    }
  });

  r.add({
    method: "GET",
    path: "/credentials",
    permission: "authenticated",
    summary: "Your passkeys",
    tags,
  }, (c, { user }) => c.json(s.passkeys.store.list(user.id)));

  r.add({
    method: "PATCH",
    path: "/credentials/:credId",
    permission: "authenticated",
    summary: "Rename one of your passkeys",
    body: renameBody,
    tags,
  }, (c, { body, user }) => {
    const id = credentialParam(c);
    if (!s.passkeys.store.rename(user.id, id, body.name)) throw new AppError("NOT_FOUND", "You have no such passkey.");
    s.audit.record({
      actor: actorOf(c),
      action: "auth.passkey.rename",
      target: passkeyTarget(user.username, id),
      details: { name: body.name },
    });
    return c.json(s.passkeys.store.list(user.id).find((p) => p.id === id));
  });

  r.add({
    method: "DELETE",
    path: "/credentials/:credId",
    permission: "authenticated",
    summary: "Delete one of your passkeys",
    status: 204,
    tags,
  }, (c, { user }) => {
    const id = credentialParam(c);
    if (!s.passkeys.store.list(user.id).some((p) => p.id === id)) {
      throw new AppError("NOT_FOUND", "You have no such passkey.");
    }
    checkPasskeyRemoval(s.settings.get(), user, s.passkeys.store);
    s.passkeys.store.delete(user.id, id);
    s.audit.record({ actor: actorOf(c), action: "auth.passkey.delete", target: passkeyTarget(user.username, id) });
    return c.body(null, 204);
  });

  r.add({
    method: "POST",
    path: "/login/begin",
    permission: "public",
    summary: "Sign-in options: send `{}` for a discoverable passkey, or `{username}` for that account's passkeys",
    body: signInBeginBody,
    tags,
  }, async (c, { body }) => c.json(await s.passkeys.beginSignIn(body.username, rpOf(c, s))));

  r.add({
    method: "POST",
    path: "/login/finish",
    permission: "public",
    summary: "Sign in with a passkey",
    body: signInFinishBody,
    tags,
  }, async (c, { body }) => {
    const ip = c.get("clientIp");
    const anonymousKey = `passkey@${ip}`;
    const wait = s.throttle.retryAfterMs(anonymousKey, ip);
    if (wait > 0) {
      s.audit.record({
        actor: { id: null, name: "anonymous", ip },
        action: "auth.login",
        target: "passkey",
        outcome: "denied",
        details: { method: "passkey", reason: "throttled" },
      });
      throw signInThrottled(wait);
    }
    const result = await s.passkeys.finishSignIn(body.challenge_id, body.response, rpOf(c, s));
    if (!result.ok) {
      s.throttle.fail(result.user?.username ?? anonymousKey, ip);
      s.audit.record({
        actor: { id: null, name: result.user?.username ?? "anonymous", ip },
        action: result.counterRegression ? "auth.passkey.counter_regression" : "auth.login",
        target: result.user?.username ?? "passkey",
        outcome: result.counterRegression ? "denied" : "failure",
        details: { method: "passkey", reason: result.reason, credential: body.response.id.slice(0, 12) },
      });
      throw new AppError("PASSKEY_FAILED", "The passkey could not be verified; try again or use another one.");
    }
    const { user } = result;
    s.throttle.succeed(user.username);
    signIn(c, s, user);
    s.audit.record({
      actor: { id: user.id, name: user.username, ip },
      action: "auth.login",
      target: user.username,
      details: { method: "passkey", credential: result.passkeyId.slice(0, 12) },
    });
    return c.json({ id: user.id, username: user.username, role: user.role });
  });
}
