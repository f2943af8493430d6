/** Shapes and small helpers shared by the Kubernetes API double (see README.md in this folder). */

/** Any API object as JSON: Kubernetes objects are open-ended, so fields stay loosely typed. */
// deno-lint-ignore no-explicit-any
export type Json = any;

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  [key: string]: Json;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: Json;
}

/** A deep copy through JSON (API objects are plain JSON). */
export function clone<T>(value: T): T {
  return value === undefined ? value : JSON.parse(JSON.stringify(value));
}

/** Structural equality of two JSON values (key order ignored). */
export function jsonEqual(a: Json, b: Json): boolean {
  return stableStringify(a) === stableStringify(b);
}

/** JSON with object keys sorted, for hashing and comparison. */
export function stableStringify(value: Json): string {
  if (value === undefined) return "null";
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(",")}]`;
  const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify(value[k])}`).join(",")}}`;
}

/** RFC 3339 with whole seconds, as the API server writes metav1.Time. */
export function timestamp(date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The alphabet Kubernetes uses for generated name suffixes (no vowels, no confusable digits). */
export const SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

/** `n` random characters of the safe alphabet (generateName suffixes, pod name suffixes). */
export function randomSuffix(n = 5): string {
  const bytes = crypto.getRandomValues(new Uint8Array(n));
  return Array.from(bytes, (b) => SAFE_ALPHABET[b % SAFE_ALPHABET.length]).join("");
}

/** The `pod-template-hash` of a template: FNV-32a over its canonical JSON, encoded like rand.SafeEncodeString. */
export function templateHash(template: Json, collisionCount = 0): string {
  let h = 0x811c9dc5;
  const text = stableStringify(template) + (collisionCount ? String(collisionCount) : "");
  for (const byte of new TextEncoder().encode(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return Array.from(String(h), (c) => SAFE_ALPHABET[c.charCodeAt(0) % SAFE_ALPHABET.length]).join("");
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
