/**
 * The object store: one global resourceVersion counter (like etcd's revision), objects per resource
 * type, and per resource type a bounded history of watch events (like the API server's watch cache),
 * from which watches started at an older resourceVersion are replayed.
 */
import { apiVersionOf, resourceKey, type ResourceType } from "./resources.ts";
import { clone, type KubeObject } from "./types.ts";

export type EventType = "ADDED" | "MODIFIED" | "DELETED";

export interface StoreEvent {
  type: EventType;
  /** The object as of this event (for DELETED: its last state with the deletion's resourceVersion). */
  object: KubeObject;
  /** The object before the change (MODIFIED and DELETED), for selector transitions. */
  previous?: KubeObject;
  rv: number;
  resource: ResourceType;
}

interface History {
  events: StoreEvent[];
  /** Whether any event was dropped from the front (then older versions are "too old"). */
  evicted: boolean;
  /** Set by compaction: versions below it are too old even if nothing was evicted. */
  floor: number;
}

export type Listener = (event: StoreEvent) => void;

export class Store {
  #rv: number;
  readonly #objects = new Map<string, Map<string, KubeObject>>();
  readonly #history = new Map<string, History>();
  readonly #listeners = new Set<Listener>();
  /** Set by compaction, for resource types that had no history yet. */
  #compactFloor = 0;

  constructor(readonly historyLimit = 200, startRv = 1000) {
    this.#rv = startRv;
  }

  /** The newest resourceVersion (what a list answers with). */
  get resourceVersion(): number {
    return this.#rv;
  }

  nextResourceVersion(): number {
    return ++this.#rv;
  }

  #bucket(r: ResourceType): Map<string, KubeObject> {
    const key = resourceKey(r);
    let m = this.#objects.get(key);
    if (!m) this.#objects.set(key, m = new Map());
    return m;
  }

  #key(ns: string | undefined, name: string) {
    return `${ns ?? ""}/${name}`;
  }

  /** A copy of the stored object, or undefined. */
  get(r: ResourceType, ns: string | undefined, name: string): KubeObject | undefined {
    return clone(this.#bucket(r).get(this.#key(r.namespaced ? ns : undefined, name)));
  }

  /** Copies of the objects of a type (in one namespace, or all), ordered by namespace/name like etcd keys. */
  list(r: ResourceType, ns?: string): KubeObject[] {
    return [...this.#bucket(r).entries()]
      .filter(([, o]) => !ns || !r.namespaced || o.metadata.namespace === ns)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, o]) => clone(o));
  }

  /** Stores a new or changed object under a new resourceVersion and emits ADDED or MODIFIED. */
  put(r: ResourceType, obj: KubeObject): KubeObject {
    const bucket = this.#bucket(r);
    const key = this.#key(r.namespaced ? obj.metadata.namespace : undefined, obj.metadata.name!);
    const previous = bucket.get(key);
    const rv = this.nextResourceVersion();
    const stored = clone(obj);
    stored.apiVersion = apiVersionOf(r);
    stored.kind = r.kind;
    stored.metadata.resourceVersion = String(rv);
    bucket.set(key, stored);
    this.#emit({ type: previous ? "MODIFIED" : "ADDED", object: stored, previous, rv, resource: r });
    return clone(stored);
  }

  /** Removes an object under a new resourceVersion and emits DELETED; returns its last state. */
  remove(r: ResourceType, ns: string | undefined, name: string): KubeObject | undefined {
    const bucket = this.#bucket(r);
    const key = this.#key(r.namespaced ? ns : undefined, name);
    const previous = bucket.get(key);
    if (!previous) return undefined;
    bucket.delete(key);
    const rv = this.nextResourceVersion();
    const last = clone(previous);
    last.metadata.resourceVersion = String(rv);
    this.#emit({ type: "DELETED", object: last, previous, rv, resource: r });
    return clone(last);
  }

  #emit(event: StoreEvent) {
    const key = resourceKey(event.resource);
    let h = this.#history.get(key);
    if (!h) this.#history.set(key, h = { events: [], evicted: this.#compactFloor > 0, floor: this.#compactFloor });
    h.events.push(event);
    while (h.events.length > this.historyLimit) {
      h.events.shift();
      h.evicted = true;
    }
    for (const l of [...this.#listeners]) {
      try {
        l(event);
      } catch (e) {
        console.error("kube double: store listener failed", e);
      }
    }
  }

  /**
   * Events of a type after `rv`, or `{ tooOld }` (the oldest version still deliverable minus one, as
   * in "too old resource version: 5 (17)") when the history no longer reaches back that far.
   */
  since(r: ResourceType, rv: number): StoreEvent[] | { tooOld: number } {
    const h = this.#history.get(resourceKey(r)) ?? { events: [], evicted: false, floor: this.#compactFloor };
    let oldest = 0;
    if (h.evicted && h.events.length) oldest = h.events[0].rv;
    if (h.floor) oldest = Math.max(oldest, h.floor);
    if (oldest && rv < oldest - 1) return { tooOld: oldest - 1 };
    return h.events.filter((e) => e.rv > rv);
  }

  /**
   * Forgets the watch history (like etcd compaction): a watch from any version up to now, the current
   * one included, gets 410 Expired; lists still work.
   */
  compact() {
    // Move past the compacted revision, so a list made after it answers with a version one can watch from.
    const floor = ++this.#rv + 1;
    for (const h of this.#history.values()) {
      h.events = [];
      h.evicted = true;
      h.floor = floor;
    }
    this.#compactFloor = floor;
  }

  subscribe(l: Listener): () => void {
    this.#listeners.add(l);
    return () => this.#listeners.delete(l);
  }
}
