/** Stable, machine-readable error codes returned in every JSON error body. */
export type ErrorCode =
  | "BAD_REQUEST"
  | "VALIDATION_FAILED"
  | "MALFORMED_JSON"
  | "UNAUTHENTICATED"
  | "INVALID_CREDENTIALS"
  | "FORBIDDEN"
  | "ORIGIN_REJECTED"
  | "NOT_FOUND"
  | "USER_NOT_FOUND"
  | "INSTANCE_NOT_FOUND"
  | "CONFLICT"
  | "SETUP_DONE"
  | "USERNAME_TAKEN"
  | "LAST_ADMIN"
  | "SELF_ACTION"
  | "PAYLOAD_TOO_LARGE"
  | "RATE_LIMITED"
  | "SSH_RATE_LIMITED"
  | "SSH_IP_BLOCKED"
  | "INVALID_SOURCE_IPS"
  | "SECRET_UNREADABLE"
  | "SSH_UNAVAILABLE"
  | "SSH_TIMEOUT"
  | "SSH_OUTPUT_TOO_LARGE"
  | "SSH_HOST_KEY_MISMATCH"
  | "NO_BACKEND"
  | "ENGINE_UNAVAILABLE"
  | "ENGINE_ERROR"
  | "IMAGE_MISSING"
  | "INSTANCE_BUSY"
  | "CONFIG_INVALID"
  | "CONFIG_REFUSED"
  | "CONFIG_CHANGED"
  | "AGENT_ERROR"
  | "CHALLENGE_INVALID"
  | "PASSKEY_REJECTED"
  | "PASSKEY_FAILED"
  | "PASSKEY_REQUIRED"
  | "POLICY_CONFLICT"
  | "INTERNAL";

const STATUS: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 400,
  MALFORMED_JSON: 400,
  UNAUTHENTICATED: 401,
  INVALID_CREDENTIALS: 401,
  FORBIDDEN: 403,
  ORIGIN_REJECTED: 403,
  NOT_FOUND: 404,
  USER_NOT_FOUND: 404,
  INSTANCE_NOT_FOUND: 404,
  CONFLICT: 409,
  SETUP_DONE: 409,
  USERNAME_TAKEN: 409,
  LAST_ADMIN: 409,
  SELF_ACTION: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  SSH_RATE_LIMITED: 429,
  SSH_IP_BLOCKED: 403,
  INVALID_SOURCE_IPS: 400,
  SECRET_UNREADABLE: 500,
  SSH_UNAVAILABLE: 503,
  SSH_TIMEOUT: 504,
  SSH_OUTPUT_TOO_LARGE: 502,
  SSH_HOST_KEY_MISMATCH: 502,
  NO_BACKEND: 503,
  ENGINE_UNAVAILABLE: 503,
  ENGINE_ERROR: 502,
  IMAGE_MISSING: 422,
  INSTANCE_BUSY: 409,
  CONFIG_INVALID: 422,
  CONFIG_REFUSED: 422,
  CONFIG_CHANGED: 409,
  AGENT_ERROR: 502,
  CHALLENGE_INVALID: 400,
  PASSKEY_REJECTED: 400,
  PASSKEY_FAILED: 401,
  PASSKEY_REQUIRED: 403,
  POLICY_CONFLICT: 409,
  INTERNAL: 500,
};

/** The one error type of the application: a message for people, a code for programs. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra response headers, e.g. `Retry-After`. */
  readonly headers: Record<string, string>;

  /** Structured facts a client can act on (e.g. validation issues), sent beside `detail`. */
  readonly extra: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    message: string,
    headers: Record<string, string> = {},
    extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.extra = extra;
    this.name = "AppError";
    this.code = code;
    this.status = STATUS[code];
    this.headers = headers;
  }

  /** The JSON body sent to clients. */
  toBody(): { detail: string; code: ErrorCode } & Record<string, unknown> {
    return { ...this.extra, detail: this.message, code: this.code };
  }
}
