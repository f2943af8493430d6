/**
 * `Status` objects exactly as the API server shapes them (k8s.io/apimachinery/pkg/api/errors), and
 * field errors as `field.Error` renders them ("spec.replicas: Invalid value: -1: must be ...").
 */
import type { Json } from "./types.ts";

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never>;
  status: "Failure" | "Success";
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code?: number;
}

/** A group and resource (or kind), as in schema.GroupResource / GroupKind. */
export interface Qualified {
  group: string;
  /** Plural resource name (`deployments`) for GroupResource, kind (`Deployment`) for GroupKind. */
  name: string;
}

/** `deployments.apps`, `pods`: GroupResource.String() and GroupKind.String(). */
export function qualifiedString(q: Qualified): string {
  return q.group ? `${q.name}.${q.group}` : q.name;
}

/** An error the HTTP layer answers with its Status (and the Status's code). */
export class ApiError extends Error {
  constructor(readonly status: Status) {
    super(status.message ?? status.reason ?? "error");
  }
  get code(): number {
    return this.status.code ?? 500;
  }
}

function details(d: StatusDetails): StatusDetails {
  const out: StatusDetails = {};
  if (d.name) out.name = d.name;
  if (d.group) out.group = d.group;
  if (d.kind) out.kind = d.kind;
  if (d.uid) out.uid = d.uid;
  if (d.causes) out.causes = d.causes;
  if (d.retryAfterSeconds) out.retryAfterSeconds = d.retryAfterSeconds;
  return out;
}

/** A failure Status (field order as the server writes it). */
export function failure(code: number, reason: string, message: string, d?: StatusDetails): Status {
  const s: Status = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason };
  if (d) s.details = details(d);
  s.code = code;
  return s;
}

/** The Status a delete answers with when the resource does not return the deleted object. */
export function deleted(resource: Qualified, name: string, uid: string): Status {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Success",
    details: details({ name, group: resource.group, kind: resource.name, uid }),
  };
}

export function notFound(resource: Qualified, name: string): ApiError {
  return new ApiError(
    failure(404, "NotFound", `${qualifiedString(resource)} ${JSON.stringify(name)} not found`, {
      name,
      group: resource.group,
      kind: resource.name,
    }),
  );
}

export function alreadyExists(resource: Qualified, name: string): ApiError {
  return new ApiError(
    failure(409, "AlreadyExists", `${qualifiedString(resource)} ${JSON.stringify(name)} already exists`, {
      name,
      group: resource.group,
      kind: resource.name,
    }),
  );
}

export const STALE_MESSAGE =
  "the object has been modified; please apply your changes to the latest version and try again";

export function conflict(resource: Qualified, name: string, why = STALE_MESSAGE): ApiError {
  return new ApiError(
    failure(
      409,
      "Conflict",
      `Operation cannot be fulfilled on ${qualifiedString(resource)} ${JSON.stringify(name)}: ${why}`,
      {
        name,
        group: resource.group,
        kind: resource.name,
      },
    ),
  );
}

export function forbidden(resource: Qualified, name: string, why: string): ApiError {
  const what = name ? `${qualifiedString(resource)} ${JSON.stringify(name)}` : qualifiedString(resource);
  return new ApiError(
    failure(403, "Forbidden", `${what} is forbidden: ${why}`, { name, group: resource.group, kind: resource.name }),
  );
}

export function badRequest(message: string): ApiError {
  return new ApiError(failure(400, "BadRequest", message));
}

export function expired(message: string): ApiError {
  return new ApiError(failure(410, "Expired", message));
}

export function methodNotAllowed(): ApiError {
  return new ApiError(
    failure(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {}),
  );
}

export function unsupportedMediaType(message: string): ApiError {
  return new ApiError(failure(415, "UnsupportedMediaType", message, {}));
}

/** What the server says for a path it has no resource for. */
export function noSuchResource(): ApiError {
  return new ApiError(failure(404, "NotFound", "the server could not find the requested resource", {}));
}

/** A JSON patch that does not apply (NewGenericServerResponse with 422). */
export function unprocessable(): ApiError {
  return new ApiError(failure(422, "Invalid", "the server rejected our request due to an error in our request", {}));
}

// ---- field errors -------------------------------------------------------------------------------

export type FieldErrorType =
  | "Required"
  | "Invalid"
  | "NotSupported"
  | "NotFound"
  | "Duplicate"
  | "Forbidden"
  | "TooLong";

const TYPE_TEXT: Record<FieldErrorType, [string, string]> = {
  Required: ["Required value", "FieldValueRequired"],
  Invalid: ["Invalid value", "FieldValueInvalid"],
  NotSupported: ["Unsupported value", "FieldValueNotSupported"],
  NotFound: ["Not found", "FieldValueNotFound"],
  Duplicate: ["Duplicate value", "FieldValueDuplicate"],
  Forbidden: ["Forbidden", "FieldValueForbidden"],
  TooLong: ["Too long", "FieldValueTooLong"],
};

export interface FieldError {
  type: FieldErrorType;
  field: string;
  value?: Json;
  detail?: string;
}

export const required = (field: string, detail?: string): FieldError => ({ type: "Required", field, detail });
export const invalid = (field: string, value: Json, detail?: string): FieldError => ({
  type: "Invalid",
  field,
  value,
  detail,
});
export const notSupported = (field: string, value: Json, supported: string[]): FieldError => ({
  type: "NotSupported",
  field,
  value,
  detail: `supported values: ${supported.map((s) => JSON.stringify(s)).join(", ")}`,
});
export const fieldNotFound = (field: string, value: Json): FieldError => ({ type: "NotFound", field, value });
export const duplicate = (field: string, value: Json): FieldError => ({ type: "Duplicate", field, value });
export const fieldForbidden = (field: string, detail: string): FieldError => ({ type: "Forbidden", field, detail });

/** field.Error.ErrorBody(). */
export function errorBody(e: FieldError): string {
  let s = TYPE_TEXT[e.type][0];
  if (e.type !== "Required" && e.type !== "Forbidden" && e.type !== "TooLong") {
    const v = e.value;
    s += `: ${typeof v === "string" ? JSON.stringify(v) : typeof v === "object" ? JSON.stringify(v) : String(v)}`;
  }
  if (e.detail) s += `: ${e.detail}`;
  return s;
}

/** errors.NewInvalid: `Deployment.apps "x" is invalid: <aggregate>` with one cause per field error. */
export function invalidObject(kind: Qualified, name: string, errs: FieldError[]): ApiError {
  const texts = [...new Set(errs.map((e) => `${e.field}: ${errorBody(e)}`))];
  const aggregate = texts.length === 1 ? texts[0] : `[${texts.join(", ")}]`;
  return new ApiError(
    failure(422, "Invalid", `${qualifiedString(kind)} ${JSON.stringify(name)} is invalid: ${aggregate}`, {
      name,
      group: kind.group,
      kind: kind.name,
      causes: errs.map((e) => ({ reason: TYPE_TEXT[e.type][1], message: errorBody(e), field: e.field })),
    }),
  );
}
