/**
 * The HTTP face of the double: routes `/api/v1/...` and `/apis/<group>/<version>/...` to the REST
 * store, serves watches, `pods/{name}/log`, `deployments/{name}/scale`, `/version`, health and a
 * minimal discovery, and answers every failure with a `Status` body.
 */
import type { Api, DeleteOptions } from "./api.ts";
import type { Faults, RequestAttributes, Verb } from "./faults.ts";
import type { Kubelet } from "./kubelet.ts";
import {
  apiVersionOf,
  DEPLOYMENTS,
  findResource,
  groupResource,
  NAMESPACES,
  PODS,
  RESOURCES,
  type ResourceType,
} from "./resources.ts";
import { parseFieldSelector, parseLabelSelector } from "./selectors.ts";
import { PATCH_TYPES } from "./patch.ts";
import {
  ApiError,
  badRequest,
  failure,
  methodNotAllowed,
  noSuchResource,
  notFound,
  unsupportedMediaType,
} from "./status.ts";
import type { Store } from "./store.ts";
import type { Json } from "./types.ts";
import { type OpenWatch, serveWatch, type WatchOptions } from "./watch.ts";

export interface ServerContext {
  api: Api;
  store: Store;
  faults: Faults;
  kubelet: Kubelet;
  watch: WatchOptions;
  openWatches: Set<OpenWatch>;
  /** When set, requests need `Authorization: Bearer <token>`. */
  token?: string;
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

const statusResponse = (e: ApiError) => json(e.status, e.code);

const truthy = (v: string | null) => v === "1" || v === "true";

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === "") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw badRequest(`invalid value for ${name}: ${JSON.stringify(v)}`);
  return n;
}

/** A patch body, once its Content-Type is one the server takes (415 otherwise, before the body is read). */
async function readPatch(req: Request): Promise<[string, Json]> {
  const type = (req.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (!(PATCH_TYPES as readonly string[]).includes(type)) {
    throw unsupportedMediaType(
      `the body of the request was in an unknown format - accepted media types include: ${
        PATCH_TYPES.join(", ")
      }, application/apply-patch+yaml`,
    );
  }
  return [type, await readJson(req)];
}

async function readJson(req: Request): Promise<Json> {
  const text = await req.text();
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(e as Error).message}`);
  }
}

function discovery(url: URL): Response | undefined {
  const p = url.pathname.replace(/\/+$/, "") || "/";
  if (p === "/version") {
    return json({
      major: "1",
      minor: "34",
      gitVersion: "v1.34.0+claworc-kube-double",
      gitCommit: "0000000000000000000000000000000000000000",
      gitTreeState: "clean",
      buildDate: "2025-01-01T00:00:00Z",
      goVersion: "go1.24.0",
      compiler: "gc",
      platform: "linux/amd64",
    });
  }
  if (p === "/healthz" || p === "/readyz" || p === "/livez") {
    return new Response("ok", { headers: { "content-type": "text/plain; charset=utf-8" } });
  }
  if (p === "/api") {
    return json({
      kind: "APIVersions",
      versions: ["v1"],
      serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: url.host }],
    });
  }
  if (p === "/apis") {
    const groups = [...new Set(RESOURCES.filter((r) => r.group).map((r) => r.group))];
    return json({
      kind: "APIGroupList",
      apiVersion: "v1",
      groups: groups.map((name) => ({
        name,
        versions: [{ groupVersion: `${name}/v1`, version: "v1" }],
        preferredVersion: { groupVersion: `${name}/v1`, version: "v1" },
      })),
    });
  }
  const gv = p === "/api/v1" ? "v1" : p.match(/^\/apis\/([^/]+\/v1)$/)?.[1];
  if (gv) {
    const list = RESOURCES.filter((r) => apiVersionOf(r) === gv);
    if (!list.length) return undefined;
    const verbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
    const resources = list.flatMap((r) => [
      { name: r.plural, singularName: r.kind.toLowerCase(), namespaced: r.namespaced, kind: r.kind, verbs },
      ...(r === PODS ? [{ name: "pods/log", singularName: "", namespaced: true, kind: "Pod", verbs: ["get"] }] : []),
      ...(r === DEPLOYMENTS
        ? [{
          name: "deployments/scale",
          singularName: "",
          namespaced: true,
          group: "autoscaling",
          version: "v1",
          kind: "Scale",
          verbs: ["get", "patch", "update"],
        }]
        : []),
    ]);
    return json({ kind: "APIResourceList", apiVersion: "v1", groupVersion: gv, resources });
  }
  return undefined;
}

interface Route {
  resource: ResourceType;
  namespace?: string;
  name?: string;
  sub?: string;
}

function route(url: URL): Route | undefined {
  const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === "api" && parts.length >= 3) [group, version, rest] = ["", parts[1], parts.slice(2)];
  else if (parts[0] === "apis" && parts.length >= 4) [group, version, rest] = [parts[1], parts[2], parts.slice(3)];
  else return undefined;
  if (rest[0] === "namespaces" && rest.length >= 3) {
    const r = findResource(group, version, rest[2]);
    if (!r || !r.namespaced || rest.length > 5) return undefined;
    return { resource: r, namespace: rest[1], name: rest[3], sub: rest[4] };
  }
  const r = findResource(group, version, rest[0]);
  if (!r || rest.length > 3) return undefined;
  if (r.namespaced && rest.length > 1) return undefined;
  return { resource: r, name: rest[1], sub: rest[2] };
}

function verbOf(method: string, rt: Route, watch: boolean): Verb | undefined {
  switch (method) {
    case "GET":
      return rt.name ? "get" : watch ? "watch" : "list";
    case "POST":
      return rt.name ? undefined : "create";
    case "PUT":
      return rt.name ? "update" : undefined;
    case "PATCH":
      return rt.name ? "patch" : undefined;
    case "DELETE":
      return rt.name ? "delete" : "deletecollection";
  }
  return undefined;
}

export function createHandler(ctx: ServerContext): (req: Request) => Promise<Response> {
  return async (req) => {
    const url = new URL(req.url);
    try {
      if (ctx.token && req.headers.get("authorization") !== `Bearer ${ctx.token}`) {
        return json(failure(401, "Unauthorized", "Unauthorized"), 401);
      }
      if (req.method === "GET") {
        const d = discovery(url);
        if (d) return d;
      }
      const rt = route(url);
      if (!rt) {
        return new Response("404 page not found\n", {
          status: 404,
          headers: { "content-type": "text/plain; charset=utf-8" },
        });
      }
      const q = url.searchParams;
      const watch = truthy(q.get("watch"));
      const verb = verbOf(req.method, rt, watch);
      if (!verb) throw methodNotAllowed();
      const r = rt.resource;
      if (
        rt.sub &&
        !((r === PODS && rt.sub === "log" && verb === "get") ||
          (r === DEPLOYMENTS && rt.sub === "scale" && ["get", "update", "patch"].includes(verb)))
      ) {
        throw noSuchResource();
      }
      const attrs: RequestAttributes = {
        verb,
        resource: groupResource(r),
        subresource: rt.sub,
        namespace: r === NAMESPACES ? rt.name : rt.namespace,
        name: rt.name,
      };
      ctx.faults.check(attrs);
      const dryRun = q.getAll("dryRun").includes("All");
      const ns = rt.namespace;
      const { api } = ctx;

      if (rt.sub === "log") return await podLog(ctx, ns!, rt.name!, q);
      if (rt.sub === "scale") {
        if (verb === "get") return json(api.getScale(ns!, rt.name!));
        if (verb === "update") return json(api.updateScale(ns!, rt.name!, await readJson(req), { dryRun }));
        return json(api.patchScale(ns!, rt.name!, ...(await readPatch(req)), { dryRun }));
      }
      switch (verb) {
        case "get":
          return json(api.get(r, ns, rt.name!));
        case "list":
        case "watch": {
          const labels = parseLabelSelector(q.get("labelSelector"));
          const fields = parseFieldSelector(q.get("fieldSelector"), r.fieldSelectors, r.kind);
          if (verb === "watch") {
            return serveWatch(
              ctx.store,
              {
                resource: r,
                namespace: ns,
                labels,
                fields,
                resourceVersion: q.get("resourceVersion") ?? undefined,
                allowBookmarks: truthy(q.get("allowWatchBookmarks")),
                sendInitialEvents: truthy(q.get("sendInitialEvents")),
                timeoutSeconds: intParam(q, "timeoutSeconds"),
              },
              ctx.watch,
              ctx.openWatches,
            );
          }
          return json(
            api.list(r, ns, {
              labels,
              fields,
              limit: intParam(q, "limit"),
              continueToken: q.get("continue") ?? undefined,
            }),
          );
        }
        case "create":
          return json(api.create(r, ns, await readJson(req), { dryRun }), 201);
        case "update":
          return json(api.update(r, ns, rt.name!, await readJson(req), { dryRun }));
        case "patch":
          return json(api.patch(r, ns, rt.name!, ...(await readPatch(req)), { dryRun }));
        case "delete": {
          const body = (await readJson(req)) ?? {};
          const opts: DeleteOptions = {
            dryRun: dryRun || (body.dryRun ?? []).includes("All"),
            gracePeriodSeconds: intParam(q, "gracePeriodSeconds") ?? body.gracePeriodSeconds,
            propagationPolicy: (q.get("propagationPolicy") ?? body.propagationPolicy ??
              (truthy(q.get("orphanDependents")) || body.orphanDependents === true ? "Orphan" : undefined)) as
                | DeleteOptions["propagationPolicy"]
                | undefined,
            preconditions: body.preconditions,
          };
          return json(api.delete(r, ns, rt.name!, opts));
        }
        case "deletecollection": {
          const labels = parseLabelSelector(q.get("labelSelector"));
          const fields = parseFieldSelector(q.get("fieldSelector"), r.fieldSelectors, r.kind);
          const list = api.list(r, ns, { labels, fields });
          for (const item of list.items) {
            try {
              api.delete(r, item.metadata.namespace, item.metadata.name, { dryRun });
            } catch { /* gone meanwhile */ }
          }
          return json({ ...list, items: list.items });
        }
      }
    } catch (e) {
      if (e instanceof ApiError) return statusResponse(e);
      console.error("kube double: request failed", req.method, url.pathname, e);
      return json(
        failure(
          500,
          "InternalError",
          `an error on the server ("${String((e as Error)?.message ?? e)}") has prevented the request from succeeding`,
          {},
        ),
        500,
      );
    }
  };
}

async function podLog(ctx: ServerContext, ns: string, name: string, q: URLSearchParams): Promise<Response> {
  const pod = ctx.store.get(PODS, ns, name);
  if (!pod) throw notFound(groupResource(PODS), name);
  const names: string[] = (pod.spec?.containers ?? []).map((c: Json) => c.name);
  const inits: string[] = (pod.spec?.initContainers ?? []).map((c: Json) => c.name);
  let container = q.get("container") ?? "";
  if (!container) {
    if (names.length !== 1) {
      throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${names.join(" ")}]`);
    }
    container = names[0];
  }
  if (!names.includes(container) && !inits.includes(container)) {
    throw badRequest(`container ${container} is not valid for pod ${name}`);
  }
  const tail = intParam(q, "tailLines");
  const text = await ctx.kubelet.logs(pod, container, tail);
  if (typeof text !== "string") {
    throw badRequest(
      `container ${JSON.stringify(container)} in pod ${JSON.stringify(name)} is waiting to start: ${text.waiting}`,
    );
  }
  return new Response(text, { headers: { "content-type": "text/plain" } });
}
