/** core/v1 Events as the kubelet and controllers record them (a repeat bumps `count` and `lastTimestamp`). */
import type { Api } from "./api.ts";
import { EVENTS } from "./resources.ts";
import { type KubeObject, timestamp } from "./types.ts";

export interface Involved {
  kind: string;
  apiVersion: string;
  namespace?: string;
  name: string;
  uid: string;
  fieldPath?: string;
}

export class EventRecorder {
  readonly #names = new Map<string, string>();

  constructor(readonly api: Api, readonly host: string) {}

  static of(obj: KubeObject, fieldPath?: string): Involved {
    return {
      kind: obj.kind!,
      apiVersion: obj.apiVersion!,
      namespace: obj.metadata.namespace,
      name: obj.metadata.name!,
      uid: obj.metadata.uid!,
      ...(fieldPath ? { fieldPath } : {}),
    };
  }

  record(involved: Involved, type: "Normal" | "Warning", reason: string, message: string, component: string) {
    const ns = involved.namespace ?? "default";
    const key = `${involved.uid}|${reason}|${message}`;
    const now = timestamp();
    try {
      const existingName = this.#names.get(key);
      const existing = existingName ? this.api.store.get(EVENTS, ns, existingName) : undefined;
      if (existing) {
        this.api.internalMutate(EVENTS, existing, (e) => {
          e.count = (e.count ?? 1) + 1;
          e.lastTimestamp = now;
        });
        return;
      }
      const hex = Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, "0")).join(
        "",
      );
      const created = this.api.create(EVENTS, ns, {
        metadata: { name: `${involved.name}.${hex}`, namespace: ns },
        involvedObject: involved,
        reason,
        message,
        source: component === "kubelet" ? { component, host: this.host } : { component },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
        type,
        eventTime: null,
        reportingComponent: component,
        reportingInstance: component === "kubelet" ? this.host : "",
      });
      this.#names.set(key, created.metadata.name!);
    } catch {
      // The namespace is going away, or a quota fault covers events: events are best effort, as in Kubernetes.
    }
  }
}
