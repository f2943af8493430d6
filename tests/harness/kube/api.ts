/**
 * The generic REST store over {@link Store}: create, get, list, update (PUT), patch, delete with the
 * API server's semantics (defaulting, validation, resourceVersion preconditions, status kept by the
 * main resource, generation, finalizers and graceful pod deletion, namespace lifecycle admission),
 * plus the Deployment `scale` subresource. Controllers use the `internal*` methods, which skip faults.
 */
import { applyPatch, PATCH_TYPES } from "./patch.ts";
import type { Faults } from "./faults.ts";
import {
  apiVersionOf,
  type DefaultingContext,
  DEPLOYMENTS,
  groupKind,
  groupResource,
  NAMESPACES,
  PODS,
  type ResourceType,
} from "./resources.ts";
import { type FieldRequirement, matchesFields, matchesLabels, type Requirement, selectorString } from "./selectors.ts";
import {
  alreadyExists,
  ApiError,
  badRequest,
  conflict,
  deleted,
  failure,
  invalid,
  invalidObject,
  notFound,
  type Status,
  unsupportedMediaType,
} from "./status.ts";
import type { Store } from "./store.ts";
import { clone, type Json, jsonEqual, type KubeObject, randomSuffix, timestamp } from "./types.ts";

export interface WriteOptions {
  dryRun?: boolean;
}

export interface DeleteOptions extends WriteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: "Foreground" | "Background" | "Orphan";
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface ListOptions {
  labels: Requirement[];
  fields: FieldRequirement[];
  limit?: number;
  continueToken?: string;
}

const isDeleting = (o: KubeObject) => Boolean(o.metadata.deletionTimestamp);

export class Api {
  /** Pods whose containers the kubelet has stopped: they go once their finalizers are gone. */
  readonly terminatedPods = new Set<string>();

  constructor(
    readonly store: Store,
    readonly ctx: DefaultingContext,
    readonly faults: Faults,
  ) {}

  // ---- reads ------------------------------------------------------------------------------------

  get(r: ResourceType, ns: string | undefined, name: string): KubeObject {
    const obj = this.store.get(r, ns, name);
    if (!obj) throw notFound(groupResource(r), name);
    return obj;
  }

  list(r: ResourceType, ns: string | undefined, opts: ListOptions): Json {
    let items = this.store.list(r, ns).filter((o) =>
      matchesLabels(opts.labels, o.metadata.labels) && matchesFields(opts.fields, o)
    );
    const metadata: Json = { resourceVersion: String(this.store.resourceVersion) };
    if (opts.continueToken) {
      let start = "";
      try {
        start = JSON.parse(atob(opts.continueToken)).start;
      } catch {
        throw badRequest("continue key is not valid: illegal base64 data at input byte 0");
      }
      items = items.filter((o) => `${o.metadata.namespace ?? ""}/${o.metadata.name}` > start);
    }
    if (opts.limit && opts.limit > 0 && items.length > opts.limit) {
      const last = items[opts.limit - 1];
      metadata.continue = btoa(
        JSON.stringify({
          v: "meta.k8s.io/v1",
          rv: this.store.resourceVersion,
          start: `${last.metadata.namespace ?? ""}/${last.metadata.name}`,
        }),
      );
      metadata.remainingItemCount = items.length - opts.limit;
      items = items.slice(0, opts.limit);
    }
    for (const o of items) {
      delete o.kind;
      delete o.apiVersion;
    }
    return { kind: `${r.kind}List`, apiVersion: apiVersionOf(r), metadata, items };
  }

  // ---- writes -----------------------------------------------------------------------------------

  #checkBody(r: ResourceType, body: Json): KubeObject {
    if (body === null || typeof body !== "object" || Array.isArray(body)) {
      throw badRequest(
        `the body of the request was in an unknown format - accepted media types include: application/json`,
      );
    }
    if (body.kind && body.kind !== r.kind) {
      throw badRequest(
        `${body.kind} in version "${r.version}" cannot be handled as a ${r.kind}: no kind "${body.kind}" is registered for version "${
          apiVersionOf(r)
        }"`,
      );
    }
    body.metadata ??= {};
    return body as KubeObject;
  }

  /** The namespace lifecycle admission plugin: the namespace must exist and not be terminating. */
  #admitNamespace(r: ResourceType, ns: string | undefined, name: string) {
    if (!r.namespaced) return;
    const namespace = this.store.get(NAMESPACES, undefined, ns!);
    if (!namespace) throw notFound(groupResource(NAMESPACES), ns!);
    if (isDeleting(namespace)) {
      throw new ApiError(
        failure(
          403,
          "Forbidden",
          `${
            name ? `${r.plural} ${JSON.stringify(name)}` : r.plural
          } is forbidden: unable to create new content in namespace ${ns} because it is being terminated`,
          {
            name,
            group: r.group,
            kind: r.plural,
            causes: [{
              reason: "NamespaceTerminating",
              message: `namespace ${ns} is being terminated`,
              field: "metadata.namespace",
            }],
          },
        ),
      );
    }
  }

  create(r: ResourceType, ns: string | undefined, input: Json, opts: WriteOptions = {}): KubeObject {
    const obj = clone(this.#checkBody(r, input));
    const meta = obj.metadata;
    if (r.namespaced) {
      if (meta.namespace && meta.namespace !== ns) {
        throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
      }
      meta.namespace = ns;
    } else {
      delete meta.namespace;
    }
    if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${randomSuffix(5)}`;
    for (
      const k of [
        "uid",
        "resourceVersion",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "generation",
      ]
    ) {
      delete meta[k];
    }
    r.defaults(obj, this.ctx);
    r.prepareForCreate?.(obj);
    const errs = r.validate(obj);
    if (errs.length) throw invalidObject(groupKind(r), meta.name ?? "", errs);
    this.#admitNamespace(r, ns, meta.name!);
    this.faults.checkQuota(groupResource(r), ns, meta.name!);
    if (this.store.get(r, ns, meta.name!)) throw alreadyExists(groupResource(r), meta.name!);
    meta.uid = crypto.randomUUID();
    meta.creationTimestamp = timestamp();
    if (r.tracksGeneration) meta.generation = 1;
    if (opts.dryRun) return { ...obj, apiVersion: apiVersionOf(r), kind: r.kind };
    return this.store.put(r, obj);
  }

  update(r: ResourceType, ns: string | undefined, name: string, input: Json, opts: WriteOptions = {}): KubeObject {
    const body = clone(this.#checkBody(r, input));
    if (body.metadata.name && body.metadata.name !== name) {
      throw badRequest(`the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`);
    }
    if (r.namespaced && body.metadata.namespace && body.metadata.namespace !== ns) {
      throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
    }
    const existing = this.get(r, ns, name);
    const rv = body.metadata.resourceVersion;
    if (rv && rv !== existing.metadata.resourceVersion) throw conflict(groupResource(r), name);
    if (body.metadata.uid && body.metadata.uid !== existing.metadata.uid) {
      throw conflict(
        groupResource(r),
        name,
        `Precondition failed: UID in precondition: ${body.metadata.uid}, UID in object meta: ${existing.metadata.uid}`,
      );
    }
    return this.#write(r, existing, body, opts);
  }

  /** Stores `next` over `existing` as an update: identity kept, status kept, defaults, validation, no-op detection. */
  #write(r: ResourceType, existing: KubeObject, next: KubeObject, opts: WriteOptions): KubeObject {
    next.apiVersion = existing.apiVersion;
    next.kind = existing.kind;
    next.metadata.name = existing.metadata.name;
    if (r.namespaced) next.metadata.namespace = existing.metadata.namespace;
    else delete next.metadata.namespace;
    for (const k of ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"]) {
      if (existing.metadata[k] === undefined) delete next.metadata[k];
      else next.metadata[k] = existing.metadata[k];
    }
    next.metadata.resourceVersion = existing.metadata.resourceVersion;
    if (r.hasStatus) {
      if (existing.status === undefined) delete next.status;
      else next.status = clone(existing.status);
    }
    r.defaults(next, this.ctx);
    const errs = r.validate(next, existing);
    if (errs.length) throw invalidObject(groupKind(r), existing.metadata.name!, errs);
    if (jsonEqual(next, existing)) return existing;
    if (r.tracksGeneration && !jsonEqual(next.spec, existing.spec)) {
      next.metadata.generation = (existing.metadata.generation ?? 0) + 1;
    }
    if (opts.dryRun) return next;
    const stored = this.store.put(r, next);
    return this.#maybeFinalize(r, stored) ?? stored;
  }

  patch(
    r: ResourceType,
    ns: string | undefined,
    name: string,
    contentType: string,
    patch: Json,
    opts: WriteOptions = {},
  ): KubeObject {
    const type = contentType.split(";")[0].trim().toLowerCase();
    if (!(PATCH_TYPES as readonly string[]).includes(type)) {
      throw unsupportedMediaType(
        `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.join(", ")}`,
      );
    }
    const existing = this.get(r, ns, name);
    const patched = applyPatch(type, existing, patch);
    if (patched === null || typeof patched !== "object" || Array.isArray(patched)) {
      throw badRequest("the patched object is not a JSON object");
    }
    patched.metadata ??= {};
    if (patched.metadata.resourceVersion && patched.metadata.resourceVersion !== existing.metadata.resourceVersion) {
      throw conflict(groupResource(r), name);
    }
    if (patched.metadata.name !== undefined && patched.metadata.name !== name) {
      throw badRequest(
        `the name of the object (${patched.metadata.name}) does not match the name on the URL (${name})`,
      );
    }
    if (patched.metadata.uid !== undefined && patched.metadata.uid !== existing.metadata.uid) {
      throw conflict(
        groupResource(r),
        name,
        `Precondition failed: UID in precondition: ${patched.metadata.uid}, UID in object meta: ${existing.metadata.uid}`,
      );
    }
    return this.#write(r, existing, this.#checkBody(r, patched), opts);
  }

  /**
   * DELETE: pods are deleted gracefully (deletionTimestamp set, gone once the kubelet stopped them),
   * objects with finalizers (including the ones Foreground/Orphan propagation adds) get a
   * deletionTimestamp and stay until their finalizers are removed, namespaces go to Terminating; the
   * rest is removed at once. Answers with the object or a Status, as the resource's REST store does.
   */
  delete(r: ResourceType, ns: string | undefined, name: string, opts: DeleteOptions = {}): KubeObject | Status {
    const existing = this.get(r, ns, name);
    const pre = opts.preconditions ?? {};
    if (pre.uid && pre.uid !== existing.metadata.uid) {
      throw conflict(
        groupResource(r),
        name,
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${existing.metadata.uid}`,
      );
    }
    if (pre.resourceVersion && pre.resourceVersion !== existing.metadata.resourceVersion) {
      throw conflict(
        groupResource(r),
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${existing.metadata.resourceVersion}`,
      );
    }
    if (opts.dryRun) return r.returnDeletedObject ? existing : deleted(groupResource(r), name, existing.metadata.uid!);
    const next = clone(existing);
    if (r === NAMESPACES) {
      if (!isDeleting(next)) {
        next.metadata.deletionTimestamp = timestamp();
        next.metadata.deletionGracePeriodSeconds = 0;
        next.status = { ...(next.status ?? {}), phase: "Terminating" };
        return this.store.put(r, next);
      }
      return existing;
    }
    if (r === PODS) {
      const terminal = ["Succeeded", "Failed"].includes(existing.status?.phase);
      const grace = terminal ? 0 : opts.gracePeriodSeconds ?? existing.spec?.terminationGracePeriodSeconds ?? 30;
      if (grace > 0 || existing.metadata.finalizers?.length) {
        if (isDeleting(existing) && (existing.metadata.deletionGracePeriodSeconds ?? 0) <= grace) return existing;
        next.metadata.deletionTimestamp = timestamp(new Date(Date.now() + grace * 1000));
        next.metadata.deletionGracePeriodSeconds = grace;
        if (grace === 0) this.terminatedPods.add(existing.metadata.uid!);
        const stored = this.store.put(r, next);
        return this.#maybeFinalize(r, stored) ?? stored;
      }
      return this.store.remove(r, ns, name)!;
    }
    const finalizers = [...(existing.metadata.finalizers ?? [])];
    if (r === DEPLOYMENTS && opts.propagationPolicy === "Foreground") finalizers.push("foregroundDeletion");
    if (r === DEPLOYMENTS && opts.propagationPolicy === "Orphan") finalizers.push("orphan");
    if (finalizers.length) {
      if (isDeleting(existing)) return existing;
      next.metadata.deletionTimestamp = timestamp();
      next.metadata.deletionGracePeriodSeconds = 0;
      next.metadata.finalizers = [...new Set(finalizers)];
      return this.store.put(r, next);
    }
    const last = this.store.remove(r, ns, name)!;
    return r.returnDeletedObject ? last : deleted(groupResource(r), name, existing.metadata.uid!);
  }

  /** Removes an object whose deletion is pending once nothing holds it any more. */
  #maybeFinalize(r: ResourceType, obj: KubeObject): KubeObject | undefined {
    if (!isDeleting(obj) || obj.metadata.finalizers?.length) return undefined;
    if (r === PODS && !this.terminatedPods.has(obj.metadata.uid!)) return undefined;
    if (r === NAMESPACES) return undefined;
    if (r === PODS) this.terminatedPods.delete(obj.metadata.uid!);
    return this.store.remove(r, obj.metadata.namespace, obj.metadata.name!);
  }

  // ---- scale subresource --------------------------------------------------------------------------

  toScale(d: KubeObject): KubeObject {
    return {
      kind: "Scale",
      apiVersion: "autoscaling/v1",
      metadata: {
        name: d.metadata.name,
        namespace: d.metadata.namespace,
        uid: d.metadata.uid,
        resourceVersion: d.metadata.resourceVersion,
        creationTimestamp: d.metadata.creationTimestamp,
      },
      spec: { replicas: d.spec?.replicas ?? 0 },
      status: { replicas: d.status?.replicas ?? 0, selector: selectorString(d.spec?.selector) },
    };
  }

  getScale(ns: string, name: string): KubeObject {
    return this.toScale(this.get(DEPLOYMENTS, ns, name));
  }

  updateScale(ns: string, name: string, input: Json, opts: WriteOptions = {}): KubeObject {
    if (input?.kind && input.kind !== "Scale") {
      throw badRequest(
        `${input.kind} in version "v1" cannot be handled as a Scale: no kind "${input.kind}" is registered`,
      );
    }
    const existing = this.get(DEPLOYMENTS, ns, name);
    if (input?.metadata?.name && input.metadata.name !== name) {
      throw badRequest(`the name of the object (${input.metadata.name}) does not match the name on the URL (${name})`);
    }
    const rv = input?.metadata?.resourceVersion;
    if (rv && rv !== existing.metadata.resourceVersion) throw conflict(groupResource(DEPLOYMENTS), name);
    const replicas = input?.spec?.replicas ?? 0;
    if (!Number.isInteger(replicas) || replicas < 0) {
      throw invalidObject({ group: "autoscaling", name: "Scale" }, name, [
        invalid("spec.replicas", replicas, "must be greater than or equal to 0"),
      ]);
    }
    const next = clone(existing);
    next.spec.replicas = replicas;
    return this.toScale(this.#write(DEPLOYMENTS, existing, next, opts));
  }

  patchScale(ns: string, name: string, contentType: string, patch: Json, opts: WriteOptions = {}): KubeObject {
    const type = contentType.split(";")[0].trim().toLowerCase();
    if (!(PATCH_TYPES as readonly string[]).includes(type)) {
      throw unsupportedMediaType(
        `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.join(", ")}`,
      );
    }
    const scale = this.getScale(ns, name);
    const patched = applyPatch(type, scale, patch);
    if (patched?.metadata?.resourceVersion !== scale.metadata.resourceVersion) {
      throw conflict(groupResource(DEPLOYMENTS), name);
    }
    return this.updateScale(ns, name, patched, opts);
  }

  // ---- for controllers (no faults, no admission) -------------------------------------------------

  /** Writes an object's status if it changed (a status subresource update). */
  internalSetStatus(r: ResourceType, obj: KubeObject, status: Json): KubeObject | undefined {
    const current = this.store.get(r, obj.metadata.namespace, obj.metadata.name!);
    if (!current || current.metadata.uid !== obj.metadata.uid) return undefined;
    if (jsonEqual(current.status, status)) return current;
    current.status = clone(status);
    return this.store.put(r, current);
  }

  /** Applies `change` to the stored object and writes it if anything changed (metadata edits by controllers). */
  internalMutate(r: ResourceType, obj: KubeObject, change: (o: KubeObject) => void): KubeObject | undefined {
    const current = this.store.get(r, obj.metadata.namespace, obj.metadata.name!);
    if (!current || current.metadata.uid !== obj.metadata.uid) return undefined;
    const next = clone(current);
    change(next);
    if (jsonEqual(next, current)) return current;
    const stored = this.store.put(r, next);
    return this.#maybeFinalize(r, stored) ?? stored;
  }

  /** The kubelet's final delete of a pod whose containers are gone (it stays while finalizers remain). */
  internalPodTerminated(pod: KubeObject) {
    const current = this.store.get(PODS, pod.metadata.namespace, pod.metadata.name!);
    if (!current || current.metadata.uid !== pod.metadata.uid) return;
    this.terminatedPods.add(current.metadata.uid!);
    if (!current.metadata.finalizers?.length) {
      this.terminatedPods.delete(current.metadata.uid!);
      this.store.remove(PODS, current.metadata.namespace, current.metadata.name!);
    }
  }

  /** Removes an object outright (namespace controller, garbage collector for non-pods). */
  internalRemove(r: ResourceType, obj: KubeObject) {
    const current = this.store.get(r, obj.metadata.namespace, obj.metadata.name!);
    if (current && current.metadata.uid === obj.metadata.uid) {
      this.store.remove(r, obj.metadata.namespace, obj.metadata.name!);
    }
  }
}
