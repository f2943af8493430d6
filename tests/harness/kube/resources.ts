/** The resource types the double serves, with what the generic REST store needs to know of each. */
import {
  deploymentDefaults,
  namespaceDefaults,
  networkPolicyDefaults,
  podDefaults,
  pvcDefaults,
  qosClass,
  secretDefaults,
  serviceDefaults,
} from "./defaults.ts";
import type { FieldError, Qualified } from "./status.ts";
import type { KubeObject } from "./types.ts";
import {
  validateDeployment,
  validateEvent,
  validateNamespace,
  validateNetworkPolicy,
  validatePod,
  validatePvc,
  validateSecret,
  validateService,
} from "./validate.ts";

/** What defaulting needs from the server (cluster IP allocation, storage class, node name). */
export interface DefaultingContext {
  allocateClusterIp(): string;
  defaultStorageClass: string;
  nodeName: string;
}

export interface ResourceType {
  /** Plural resource name, as in URLs and RBAC (`deployments`). */
  plural: string;
  kind: string;
  group: string;
  version: string;
  namespaced: boolean;
  /** Fields besides metadata.name/namespace that field selectors accept. */
  fieldSelectors: string[];
  /** Whether DELETE answers with the object (pods, services, PVCs, namespaces) or a Status. */
  returnDeletedObject: boolean;
  /** Whether metadata.generation counts spec changes. */
  tracksGeneration: boolean;
  /** Whether `status` belongs to a status subresource (PUT/PATCH of the object keep the old status). */
  hasStatus: boolean;
  defaults(obj: KubeObject, ctx: DefaultingContext): void;
  validate(obj: KubeObject, old?: KubeObject): FieldError[];
  /** Status and admission-set fields of a new object. */
  prepareForCreate?(obj: KubeObject): void;
}

export function apiVersionOf(r: ResourceType): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

export function groupResource(r: ResourceType): Qualified {
  return { group: r.group, name: r.plural };
}

export function groupKind(r: ResourceType): Qualified {
  return { group: r.group, name: r.kind };
}

/** A key for maps of resource types: `deployments.apps`. */
export function resourceKey(r: ResourceType): string {
  return r.group ? `${r.plural}.${r.group}` : r.plural;
}

const none = () => {};

export const NAMESPACES: ResourceType = {
  plural: "namespaces",
  kind: "Namespace",
  group: "",
  version: "v1",
  namespaced: false,
  fieldSelectors: ["status.phase"],
  returnDeletedObject: true,
  tracksGeneration: false,
  hasStatus: true,
  defaults: namespaceDefaults,
  validate: validateNamespace,
  prepareForCreate: (n) => {
    n.status = { phase: "Active" };
  },
};

export const PODS: ResourceType = {
  plural: "pods",
  kind: "Pod",
  group: "",
  version: "v1",
  namespaced: true,
  fieldSelectors: [
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "status.phase",
    "status.podIP",
    "status.nominatedNodeName",
  ],
  returnDeletedObject: true,
  tracksGeneration: false,
  hasStatus: true,
  defaults: (p, ctx) => podDefaults(p, ctx.nodeName),
  validate: validatePod,
  prepareForCreate: (p) => {
    p.status = { phase: "Pending", qosClass: qosClass(p.spec) };
  },
};

export const SERVICES: ResourceType = {
  plural: "services",
  kind: "Service",
  group: "",
  version: "v1",
  namespaced: true,
  fieldSelectors: ["spec.clusterIP", "spec.type"],
  returnDeletedObject: true,
  tracksGeneration: false,
  hasStatus: true,
  defaults: (s, ctx) => serviceDefaults(s, ctx.allocateClusterIp),
  validate: validateService,
  prepareForCreate: (s) => {
    s.status = { loadBalancer: {} };
  },
};

export const SECRETS: ResourceType = {
  plural: "secrets",
  kind: "Secret",
  group: "",
  version: "v1",
  namespaced: true,
  fieldSelectors: ["type"],
  returnDeletedObject: false,
  tracksGeneration: false,
  hasStatus: false,
  defaults: secretDefaults,
  validate: validateSecret,
};

export const PVCS: ResourceType = {
  plural: "persistentvolumeclaims",
  kind: "PersistentVolumeClaim",
  group: "",
  version: "v1",
  namespaced: true,
  fieldSelectors: [],
  returnDeletedObject: true,
  tracksGeneration: false,
  hasStatus: true,
  defaults: (p, ctx) => pvcDefaults(p, ctx.defaultStorageClass),
  validate: validatePvc,
  prepareForCreate: (p) => {
    p.status = { phase: "Pending" };
    // The StorageObjectInUseProtection admission plugin.
    p.metadata.finalizers = [...new Set([...(p.metadata.finalizers ?? []), "kubernetes.io/pvc-protection"])];
  },
};

export const EVENTS: ResourceType = {
  plural: "events",
  kind: "Event",
  group: "",
  version: "v1",
  namespaced: true,
  fieldSelectors: [
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
  ],
  returnDeletedObject: false,
  tracksGeneration: false,
  hasStatus: false,
  defaults: none,
  validate: validateEvent,
};

export const DEPLOYMENTS: ResourceType = {
  plural: "deployments",
  kind: "Deployment",
  group: "apps",
  version: "v1",
  namespaced: true,
  fieldSelectors: [],
  returnDeletedObject: false,
  tracksGeneration: true,
  hasStatus: true,
  defaults: deploymentDefaults,
  validate: validateDeployment,
  prepareForCreate: (d) => {
    d.status = {};
  },
};

export const NETWORK_POLICIES: ResourceType = {
  plural: "networkpolicies",
  kind: "NetworkPolicy",
  group: "networking.k8s.io",
  version: "v1",
  namespaced: true,
  fieldSelectors: [],
  returnDeletedObject: false,
  tracksGeneration: true,
  hasStatus: false,
  defaults: networkPolicyDefaults,
  validate: validateNetworkPolicy,
};

export const RESOURCES: ResourceType[] = [
  NAMESPACES,
  PODS,
  SERVICES,
  SECRETS,
  PVCS,
  EVENTS,
  DEPLOYMENTS,
  NETWORK_POLICIES,
];

/** The resource served at `/<api|apis/group>/<version>/<plural>`, if any. */
export function findResource(group: string, version: string, plural: string): ResourceType | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
}
