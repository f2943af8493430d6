/**
 * Fault injection: RBAC denials (403 as the RBAC authorizer words them), ResourceQuota rejections on
 * create (403 "exceeded quota"), and failures of the next N requests. Dropping open watches and
 * expiring the watch history are on the double itself (`dropWatches`, `compact`).
 */
import { ApiError, failure, forbidden, type Qualified } from "./status.ts";

export type Verb = "get" | "list" | "watch" | "create" | "update" | "patch" | "delete" | "deletecollection";

/** What a request is, in RBAC terms. */
export interface RequestAttributes {
  verb: Verb;
  /** Group and plural resource. */
  resource: Qualified;
  /** `log`, `scale`... */
  subresource?: string;
  namespace?: string;
  name?: string;
}

interface Rule {
  verb: Verb | "*";
  resource: string;
  namespace?: string;
  once: boolean;
}

interface QuotaRule {
  resource: string;
  message: string;
  namespace?: string;
}

interface FailRule {
  match: (a: RequestAttributes) => boolean;
  remaining: number;
  code: number;
  reason: string;
  message: string;
}

/** `pods`, `pods/log`, `deployments.apps`, `deployments.apps/scale`: how rules name what they match. */
function resourceName(a: RequestAttributes): string[] {
  const base = a.resource.group ? `${a.resource.name}.${a.resource.group}` : a.resource.name;
  const names = [base, a.resource.name];
  return a.subresource ? names.map((n) => `${n}/${a.subresource}`) : names;
}

export class Faults {
  #deny: Rule[] = [];
  #quota: QuotaRule[] = [];
  #fail: FailRule[] = [];

  constructor(readonly user: string) {}

  /**
   * Denies `verb` on `resource` (`pods`, `pods/log`, `deployments` or `deployments.apps`,
   * `deployments/scale`; `*` for every verb), in one namespace or all. Returns a function that lifts it.
   */
  deny(verb: Verb | "*", resource: string, opts: { namespace?: string; once?: boolean } = {}): () => void {
    const rule: Rule = { verb, resource, namespace: opts.namespace, once: opts.once ?? false };
    this.#deny.push(rule);
    return () => this.#deny = this.#deny.filter((r) => r !== rule);
  }

  /**
   * Makes creates of `resource` fail as the ResourceQuota admission plugin does:
   * `<resource> "<name>" is forbidden: exceeded quota: <message>`. Pods the Deployment controller
   * creates are refused too (the Deployment gets a ReplicaFailure condition and a FailedCreate event).
   */
  quota(
    resource: string,
    message = "claworc-quota, requested: limits.memory=4Gi, used: limits.memory=0, limited: limits.memory=2Gi",
    opts: { namespace?: string } = {},
  ): () => void {
    const rule = { resource, message, namespace: opts.namespace };
    this.#quota.push(rule);
    return () => this.#quota = this.#quota.filter((r) => r !== rule);
  }

  /**
   * Fails the next `times` requests matching `verb` and `resource` with a Status of `code` (e.g. 500
   * InternalError, 503 ServiceUnavailable, 429 TooManyRequests).
   */
  failNext(
    verb: Verb | "*",
    resource: string,
    opts: { times?: number; code?: number; reason?: string; message?: string } = {},
  ): void {
    this.#fail.push({
      match: (a) => (verb === "*" || verb === a.verb) && resourceName(a).includes(resource),
      remaining: opts.times ?? 1,
      code: opts.code ?? 500,
      reason: opts.reason ??
        (opts.code === 503 ? "ServiceUnavailable" : opts.code === 429 ? "TooManyRequests" : "InternalError"),
      message: opts.message ?? 'an error on the server ("injected fault") has prevented the request from succeeding',
    });
  }

  /** Lifts every rule. */
  clear() {
    this.#deny = [];
    this.#quota = [];
    this.#fail = [];
  }

  /** Throws the 403 (or injected failure) this request gets, if any. */
  check(a: RequestAttributes) {
    const fail = this.#fail.find((f) => f.remaining > 0 && f.match(a));
    if (fail) {
      fail.remaining--;
      throw new ApiError(failure(fail.code, fail.reason, fail.message, {}));
    }
    const names = resourceName(a);
    const rule = this.#deny.find((r) =>
      (r.verb === "*" || r.verb === a.verb) && names.includes(r.resource) &&
      (!r.namespace || r.namespace === a.namespace)
    );
    if (!rule) return;
    if (rule.once) this.#deny = this.#deny.filter((r) => r !== rule);
    const what = a.subresource ? `${a.resource.name}/${a.subresource}` : a.resource.name;
    const where = a.namespace ? `in the namespace ${JSON.stringify(a.namespace)}` : "at the cluster scope";
    throw forbidden(
      a.resource,
      a.name ?? "",
      `User ${JSON.stringify(this.user)} cannot ${a.verb} resource ${JSON.stringify(what)} in API group ${
        JSON.stringify(a.resource.group)
      } ${where}`,
    );
  }

  /** Throws the quota rejection of a create, if any. */
  checkQuota(resource: Qualified, namespace: string | undefined, name: string) {
    const full = resource.group ? `${resource.name}.${resource.group}` : resource.name;
    const rule = this.#quota.find((r) =>
      (r.resource === full || r.resource === resource.name) && (!r.namespace || r.namespace === namespace)
    );
    if (rule) throw forbidden(resource, name, `exceeded quota: ${rule.message}`);
  }
}
