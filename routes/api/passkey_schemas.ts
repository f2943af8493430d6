import { z } from "zod";

/** Request schemas of the passkey API: WebAuthn answers as @simplewebauthn/browser sends them, capped. */
const base64url = (max: number) =>
  z.string().min(1, "is required").max(max, `must be at most ${max} characters`).regex(
    /^[A-Za-z0-9_-]+$/,
    "must be base64url",
  );

/** A credential id as it appears in paths: base64url of at least 12 bytes (authenticators use 16 or more). */
export const credentialId = base64url(1366).min(16, "is too short to be a passkey id");

export const passkeyName = z.string().trim().min(1, "must not be empty").max(64, "must be at most 64 characters")
  .regex(/^[^\p{Cc}\p{Cf}]*$/u, "must not contain control or format characters");

const common = {
  id: credentialId,
  rawId: credentialId,
  type: z.literal("public-key", "must be `public-key`"),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
  authenticatorAttachment: z.enum(["platform", "cross-platform"]).optional(),
};

export const registrationResponse = z.object({
  ...common,
  response: z.object({
    clientDataJSON: base64url(16_384),
    attestationObject: base64url(65_536),
    transports: z.array(z.string().max(32)).max(10).optional(),
  }),
});

export const authenticationResponse = z.object({
  ...common,
  response: z.object({
    clientDataJSON: base64url(16_384),
    authenticatorData: base64url(16_384),
    signature: base64url(16_384), // ML-DSA signatures are several KiB
    userHandle: base64url(256).optional(),
  }),
});

const challengeId = base64url(64);

export const registerFinishBody = z.object({
  challenge_id: challengeId,
  response: registrationResponse,
  name: passkeyName.optional(),
});
export const registerFinishQuery = z.object({ name: passkeyName.optional() });
export const signInBeginBody = z.object({ username: z.string().trim().min(1, "must not be empty").max(64).optional() });
export const signInFinishBody = z.object({ challenge_id: challengeId, response: authenticationResponse });
export const renameBody = z.object({ name: passkeyName });
