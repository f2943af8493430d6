import {
  browserSupportsWebAuthn,
  startAuthentication,
  startRegistration,
  WebAuthnError,
} from "@simplewebauthn/browser";
import { api } from "./_api.ts";
import type { PasskeySummary } from "../core/auth/passkeys/passkey_store.ts";

/** A passkey as the API lists it. */
export type Passkey = PasskeySummary;

/** Whether this browser can use passkeys at all (false during server rendering). */
export const passkeysSupported = () => typeof window !== "undefined" && browserSupportsWebAuthn();

/** The browser's own errors in words people understand (a cancelled prompt is the common one). */
export function ceremonyError(e: unknown): Error {
  if (e instanceof WebAuthnError || (e instanceof Error && e.name === "NotAllowedError")) {
    return new Error("The passkey prompt was cancelled or timed out.");
  }
  return e instanceof Error ? e : new Error(String(e));
}

/** Creates a passkey for the signed-in user and stores it under `name` (the server names it if empty). */
export async function registerPasskey(name: string): Promise<Passkey> {
  const { challenge_id, options } = await api<{ challenge_id: string; options: never }>(
    "POST",
    "/api/v1/auth/webauthn/register/begin",
  );
  let response;
  try {
    response = await startRegistration({ optionsJSON: options });
  } catch (e) {
    throw ceremonyError(e);
  }
  return await api<Passkey>("POST", "/api/v1/auth/webauthn/register/finish", {
    challenge_id,
    response,
    ...(name.trim() ? { name: name.trim() } : {}),
  });
}

/** Signs in with a passkey: any passkey of this site, or only `username`'s when given. */
export async function signInWithPasskey(username?: string): Promise<void> {
  const { challenge_id, options } = await api<{ challenge_id: string; options: never }>(
    "POST",
    "/api/v1/auth/webauthn/login/begin",
    username ? { username } : {},
  );
  let response;
  try {
    response = await startAuthentication({ optionsJSON: options });
  } catch (e) {
    throw ceremonyError(e);
  }
  await api("POST", "/api/v1/auth/webauthn/login/finish", { challenge_id, response });
}
