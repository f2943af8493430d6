import { createHmac } from "node:crypto";
import type {
  AuthenticationResponseJSON,
  AuthenticatorTransport,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from "@simplewebauthn/server";
import type { Clock } from "../../clock.ts";
import { AppError } from "../../errors.ts";
import type { User, Users } from "../../users/users.ts";
import { CHALLENGE_TTL_MS, type Challenges } from "./challenges.ts";
import { MAX_PASSKEYS_PER_USER, type PasskeyStore, type PasskeySummary } from "./passkey_store.ts";
import type { RelyingParty } from "./relying_party.ts";

export type { AuthenticationResponseJSON, RegistrationResponseJSON };

/** The WebAuthn library (with its ASN.1 and CBOR stack), loaded at the first ceremony, not at start. */
const webauthn = () => import("@simplewebauthn/server");

/** Options for the browser plus the id of the challenge inside them (sent back with the answer). */
export interface Ceremony<O> {
  challenge_id: string;
  options: O;
}

/** How a passkey sign-in ended; failures carry the reason for the audit log, never for the client. */
export type SignInResult =
  | { ok: true; user: User; passkeyId: string }
  | { ok: false; reason: string; user?: User; counterRegression?: boolean };

/**
 * Passkey ceremonies over @simplewebauthn/server: registration for a signed-in user, and sign-in either
 * discoverable (no username: the authenticator picks the account) or username-first (allow list).
 */
export class Passkeys {
  /** Makes stable fake credential ids for unknown usernames, so options do not reveal who exists. */
  readonly #decoyKey = crypto.getRandomValues(new Uint8Array(32));

  constructor(
    readonly store: PasskeyStore,
    private readonly challenges: Challenges,
    private readonly users: Users,
    private readonly clock: Clock,
  ) {}

  async beginRegistration(user: User, rp: RelyingParty): Promise<Ceremony<PublicKeyCredentialCreationOptionsJSON>> {
    if (this.store.count(user.id) >= MAX_PASSKEYS_PER_USER) {
      throw new AppError(
        "CONFLICT",
        `An account can hold at most ${MAX_PASSKEYS_PER_USER} passkeys; delete one first.`,
      );
    }
    const options = await (await webauthn()).generateRegistrationOptions({
      rpName: rp.name,
      rpID: rp.id,
      userName: user.username,
      userDisplayName: user.username,
      userID: Buffer.from(this.store.handleFor(user.id), "base64url"),
      attestationType: "none",
      timeout: CHALLENGE_TTL_MS,
      excludeCredentials: this.#descriptors(user.id),
      authenticatorSelection: { residentKey: "required", userVerification: "preferred" },
    });
    return { challenge_id: this.challenges.issue("register", user.id, rp.id, options.challenge), options };
  }

  /** Verifies the authenticator's answer and stores the passkey; PASSKEY_REJECTED when it does not verify. */
  async finishRegistration(
    user: User,
    challengeId: string,
    response: RegistrationResponseJSON,
    name: string,
    rp: RelyingParty,
  ): Promise<PasskeySummary> {
    const taken = this.challenges.take(challengeId, "register", user.id);
    let info;
    try {
      const result = await (await webauthn()).verifyRegistrationResponse({
        response,
        expectedChallenge: taken.challenge,
        expectedOrigin: rp.origins,
        expectedRPID: taken.rpId,
        requireUserVerification: false,
      });
      if (!result.verified) throw new Error("not verified");
      info = result.registrationInfo;
    } catch (e) {
      throw new AppError("PASSKEY_REJECTED", `The passkey could not be verified: ${(e as Error).message}`);
    }
    if (this.store.find(info.credential.id)) {
      throw new AppError("CONFLICT", "This passkey is already registered.");
    }
    this.store.add({
      id: info.credential.id,
      userId: user.id,
      name,
      publicKey: info.credential.publicKey,
      signCount: info.credential.counter,
      transports: info.credential.transports ?? [],
      deviceType: info.credentialDeviceType,
      backedUp: info.credentialBackedUp,
    }, new Date(this.clock.now()));
    return this.store.list(user.id).find((p) => p.id === info.credential.id)!;
  }

  /** Sign-in options: discoverable without a username, else limited to that account's passkeys. */
  async beginSignIn(
    username: string | undefined,
    rp: RelyingParty,
  ): Promise<Ceremony<PublicKeyCredentialRequestOptionsJSON>> {
    let allow: { id: string; transports?: AuthenticatorTransport[] }[] | undefined;
    if (username !== undefined) {
      const user = this.users.credentials(username);
      const own = user ? this.#descriptors(user.id) : [];
      allow = own.length ? own : [{ id: this.#decoyId(username) }];
    }
    const options = await (await webauthn()).generateAuthenticationOptions({
      rpID: rp.id,
      allowCredentials: allow,
      userVerification: "preferred",
      timeout: CHALLENGE_TTL_MS,
    });
    return { challenge_id: this.challenges.issue("login", null, rp.id, options.challenge), options };
  }

  /** Checks a sign-in answer; the challenge is spent either way. */
  async finishSignIn(
    challengeId: string,
    response: AuthenticationResponseJSON,
    rp: RelyingParty,
  ): Promise<SignInResult> {
    const taken = this.challenges.take(challengeId, "login", null);
    const stored = this.store.find(response.id);
    if (!stored) return { ok: false, reason: "unknown passkey" };
    const user = this.users.find(stored.userId);
    if (!user) return { ok: false, reason: "unknown passkey" };
    // The user handle, when the authenticator sends one, must be this account's.
    const handle = response.response.userHandle;
    if (handle && this.store.userForHandle(handle) !== user.id) {
      return { ok: false, reason: "user handle does not match the passkey", user };
    }
    let info;
    try {
      const result = await (await webauthn()).verifyAuthenticationResponse({
        response,
        expectedChallenge: taken.challenge,
        expectedOrigin: rp.origins,
        expectedRPID: taken.rpId,
        // The counter is compared below, so a regression is told apart from other failures.
        credential: { id: stored.id, publicKey: stored.publicKey, counter: 0, transports: stored.transports as never },
        requireUserVerification: false,
      });
      if (!result.verified) return { ok: false, reason: "signature not verified", user };
      info = result.authenticationInfo;
    } catch (e) {
      return { ok: false, reason: (e as Error).message.slice(0, 200), user };
    }
    if ((info.newCounter > 0 || stored.signCount > 0) && info.newCounter <= stored.signCount) {
      return {
        ok: false,
        reason: `signature counter went from ${stored.signCount} to ${info.newCounter} (a cloned authenticator?)`,
        user,
        counterRegression: true,
      };
    }
    this.store.used(stored.id, info.newCounter, info.credentialBackedUp, new Date(this.clock.now()));
    return { ok: true, user, passkeyId: stored.id };
  }

  #descriptors(userId: number) {
    return this.store.descriptors(userId).map((d) => ({
      id: d.id,
      transports: d.transports as AuthenticatorTransport[],
    }));
  }

  #decoyId(username: string): string {
    return createHmac("sha256", this.#decoyKey).update(username.toLowerCase()).digest("base64url");
  }
}
