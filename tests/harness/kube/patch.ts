/**
 * The three patch types the API server takes as JSON:
 * - `application/merge-patch+json`: RFC 7386 (null deletes, objects merge, arrays replace);
 * - `application/strategic-merge-patch+json`: a merge patch where the lists Kubernetes declares with a
 *   merge key (containers and volumes by name, env by name, volumeMounts by mountPath, ports by
 *   containerPort/port, conditions by type, ownerReferences by uid...) merge element-wise, primitive
 *   `finalizers` merge as a set, and the `$patch: delete|replace` directives work; other `$` directives
 *   (`$setElementOrder`, `$retainKeys`, `$deleteFromPrimitiveList`) are dropped, not honoured;
 * - `application/json-patch+json`: RFC 6902 (add, remove, replace, move, copy, test).
 */
import { ApiError, badRequest, unprocessable } from "./status.ts";
import { clone, type Json, jsonEqual } from "./types.ts";

const isObject = (v: Json): v is Record<string, Json> => v !== null && typeof v === "object" && !Array.isArray(v);

/** RFC 7386 merge patch. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  const out: Record<string, Json> = isObject(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** Lists that strategic merge patches merge element-wise, by field name → merge key. */
const MERGE_KEYS: Record<string, string | ((items: Json[]) => string)> = {
  containers: "name",
  initContainers: "name",
  ephemeralContainers: "name",
  volumes: "name",
  volumeMounts: "mountPath",
  volumeDevices: "devicePath",
  env: "name",
  imagePullSecrets: "name",
  hostAliases: "ip",
  conditions: "type",
  ownerReferences: "uid",
  topologySpreadConstraints: "topologyKey",
  resourceClaims: "name",
  ports: (items) => items.some((i) => isObject(i) && "containerPort" in i) ? "containerPort" : "port",
};
/** Primitive lists with patchStrategy "merge" (union). */
const MERGE_PRIMITIVES = new Set(["finalizers"]);

function dropDirectives(v: Json): Json {
  if (Array.isArray(v)) return v.map(dropDirectives);
  if (!isObject(v)) return v;
  const out: Record<string, Json> = {};
  for (const [k, x] of Object.entries(v)) if (!k.startsWith("$")) out[k] = dropDirectives(x);
  return out;
}

/** Strategic merge patch over the lists above; everything else as a merge patch. */
export function strategicMergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  if (patch.$patch === "replace") return dropDirectives(patch);
  if (patch.$patch === "delete") return undefined;
  const out: Record<string, Json> = isObject(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith("$")) continue;
    if (v === null) {
      delete out[k];
      continue;
    }
    const key = MERGE_KEYS[k];
    if (Array.isArray(v) && key && Array.isArray(out[k])) {
      out[k] = mergeList(out[k], v, typeof key === "string" ? key : key([...out[k], ...v]));
    } else if (Array.isArray(v) && MERGE_PRIMITIVES.has(k) && Array.isArray(out[k])) {
      out[k] = [...out[k], ...v.filter((x: Json) => !out[k].includes(x))];
    } else if (Array.isArray(v)) {
      out[k] = dropDirectives(v.filter((x: Json) => !(isObject(x) && x.$patch === "delete")));
    } else {
      const merged = strategicMergePatch(out[k], v);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    }
  }
  return out;
}

function mergeList(current: Json[], patch: Json[], key: string): Json[] {
  const out = clone(current);
  for (const item of patch) {
    if (!isObject(item)) continue;
    const at = out.findIndex((x: Json) => isObject(x) && x[key] === item[key]);
    if (item.$patch === "delete") {
      if (at >= 0) out.splice(at, 1);
    } else if (at >= 0) {
      out[at] = strategicMergePatch(out[at], item);
    } else {
      out.push(dropDirectives(item));
    }
  }
  return out;
}

// ---- RFC 6902 -----------------------------------------------------------------------------------

function pointer(path: string): string[] {
  if (path === "") return [];
  if (!path.startsWith("/")) throw new Error(`invalid JSON pointer ${path}`);
  return path.slice(1).split("/").map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function parentOf(doc: Json, tokens: string[]): [Json, string] {
  let cur = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isObject(cur)) cur = cur[t];
    else cur = undefined;
    if (cur === undefined) throw new Error(`doc is missing path: ${tokens.join("/")}`);
  }
  return [cur, tokens[tokens.length - 1]];
}

function getAt(doc: Json, tokens: string[]): Json {
  if (tokens.length === 0) return doc;
  const [parent, last] = parentOf(doc, tokens);
  const v = Array.isArray(parent) ? parent[Number(last)] : parent?.[last];
  if (v === undefined) throw new Error(`doc is missing path: /${tokens.join("/")}`);
  return v;
}

function index(arr: Json[], token: string, forAdd: boolean): number {
  if (forAdd && token === "-") return arr.length;
  if (!/^(0|[1-9]\d*)$/.test(token)) throw new Error(`invalid array index ${token}`);
  const i = Number(token);
  if (i > arr.length || (!forAdd && i === arr.length)) throw new Error(`index out of range: ${i}`);
  return i;
}

function addAt(doc: Json, tokens: string[], value: Json): Json {
  if (tokens.length === 0) return value;
  const [parent, last] = parentOf(doc, tokens);
  if (Array.isArray(parent)) parent.splice(index(parent, last, true), 0, value);
  else if (isObject(parent)) parent[last] = value;
  else throw new Error(`doc is missing path: /${tokens.join("/")}`);
  return doc;
}

function removeAt(doc: Json, tokens: string[]): Json {
  const [parent, last] = parentOf(doc, tokens);
  if (Array.isArray(parent)) parent.splice(index(parent, last, false), 1);
  else if (isObject(parent) && last in parent) delete parent[last];
  else throw new Error(`unable to remove nonexistent key: ${last}: missing value`);
  return doc;
}

/**
 * Applies an RFC 6902 patch. A body that is not a list of operations is a 400 (as from the server); an
 * operation that cannot apply (missing path, failed `test`) is the server's generic 422.
 */
export function jsonPatch(target: Json, ops: Json): Json {
  if (!Array.isArray(ops)) throw badRequest("json: cannot unmarshal object into Go value of type jsonpatch.Patch");
  let doc = clone(target);
  try {
    for (const op of ops) {
      if (!isObject(op) || typeof op.path !== "string") throw new Error("invalid operation");
      const path = pointer(op.path);
      switch (op.op) {
        case "add":
          doc = addAt(doc, path, clone(op.value));
          break;
        case "remove":
          doc = removeAt(doc, path);
          break;
        case "replace":
          getAt(doc, path);
          doc = path.length === 0 ? clone(op.value) : addAt(removeAt(doc, path), path, clone(op.value));
          break;
        case "move": {
          const from = pointer(String(op.from));
          const v = getAt(doc, from);
          doc = addAt(removeAt(doc, from), path, v);
          break;
        }
        case "copy":
          doc = addAt(doc, path, clone(getAt(doc, pointer(String(op.from)))));
          break;
        case "test":
          if (!jsonEqual(getAt(doc, path), op.value)) throw new Error("testing value failed");
          break;
        default:
          throw new Error(`Unexpected kind: ${op.op}`);
      }
    }
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw unprocessable();
  }
  return doc;
}

export const PATCH_TYPES = [
  "application/json-patch+json",
  "application/merge-patch+json",
  "application/strategic-merge-patch+json",
] as const;

/** Applies a patch body of the given Content-Type to `target`. */
export function applyPatch(contentType: string, target: Json, patch: Json): Json {
  switch (contentType) {
    case "application/json-patch+json":
      return jsonPatch(target, patch);
    case "application/merge-patch+json":
      return mergePatch(target, patch);
    case "application/strategic-merge-patch+json":
      if (!isObject(patch)) throw badRequest("unable to find api field in struct for the patch");
      return strategicMergePatch(target, patch);
    default:
      throw new Error(`unsupported patch type ${contentType}`);
  }
}
