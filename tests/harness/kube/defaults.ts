/**
 * Defaulting as the API server (and its always-on admission plugins) applies it on create and update:
 * pod spec defaults, Deployment strategy and replicas, Service cluster IP and ports, Secret `stringData`,
 * PersistentVolumeClaim storage class and protection finalizer, NetworkPolicy policy types, Namespace
 * label and finalizer.
 */
import { parseQuantity } from "./quantity.ts";
import { clone, type Json, type KubeObject } from "./types.ts";

const setDefault = (o: Json, key: string, value: Json) => {
  if (o[key] === undefined || o[key] === null) o[key] = value;
};

function probeDefaults(p: Json) {
  if (!p) return;
  setDefault(p, "timeoutSeconds", 1);
  setDefault(p, "periodSeconds", 10);
  setDefault(p, "successThreshold", 1);
  setDefault(p, "failureThreshold", 3);
  if (p.httpGet) setDefault(p.httpGet, "scheme", "HTTP");
  if (p.httpGet) setDefault(p.httpGet, "path", "/");
}

function containerDefaults(c: Json) {
  setDefault(c, "terminationMessagePath", "/dev/termination-log");
  setDefault(c, "terminationMessagePolicy", "File");
  const image = String(c.image ?? "");
  const tagged = /:[^/]+$/.test(image.split("@")[0]) && !image.endsWith(":latest");
  setDefault(c, "imagePullPolicy", tagged || image.includes("@") ? "IfNotPresent" : "Always");
  setDefault(c, "resources", {});
  const limits = c.resources.limits ?? {};
  if (Object.keys(limits).length) {
    c.resources.requests ??= {};
    for (const [k, v] of Object.entries(limits)) setDefault(c.resources.requests, k, v);
  }
  for (const p of c.ports ?? []) setDefault(p, "protocol", "TCP");
  for (const e of c.env ?? []) if (e.valueFrom?.fieldRef) setDefault(e.valueFrom.fieldRef, "apiVersion", "v1");
  probeDefaults(c.readinessProbe);
  probeDefaults(c.livenessProbe);
  probeDefaults(c.startupProbe);
}

/** PodSpec defaults (templates and pods alike). */
export function podSpecDefaults(spec: Json) {
  if (!spec) return;
  setDefault(spec, "restartPolicy", "Always");
  setDefault(spec, "terminationGracePeriodSeconds", 30);
  setDefault(spec, "dnsPolicy", "ClusterFirst");
  setDefault(spec, "securityContext", {});
  setDefault(spec, "schedulerName", "default-scheduler");
  for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) containerDefaults(c);
  for (const v of spec.volumes ?? []) {
    if (v.secret) setDefault(v.secret, "defaultMode", 0o644);
    if (v.configMap) setDefault(v.configMap, "defaultMode", 0o644);
  }
}

/** What admission and defaulting add to a Pod created directly or by a controller. */
export function podDefaults(pod: KubeObject, nodeName: string) {
  pod.spec ??= {};
  podSpecDefaults(pod.spec);
  setDefault(pod.spec, "serviceAccountName", "default");
  setDefault(pod.spec, "serviceAccount", pod.spec.serviceAccountName);
  setDefault(pod.spec, "enableServiceLinks", true);
  setDefault(pod.spec, "priority", 0);
  setDefault(pod.spec, "preemptionPolicy", "PreemptLowerPriority");
  setDefault(pod.spec, "nodeName", nodeName);
  setDefault(pod.spec, "tolerations", [
    { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
    { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
  ]);
}

/** The pod's QoS class from its containers' requests and limits. */
export function qosClass(spec: Json): "Guaranteed" | "Burstable" | "BestEffort" {
  const containers: Json[] = [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const c of containers) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    if (Object.keys(req).length || Object.keys(lim).length) any = true;
    for (const r of ["cpu", "memory"]) {
      if (lim[r] === undefined || parseQuantity(req[r] ?? lim[r]) !== parseQuantity(lim[r])) guaranteed = false;
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

export function deploymentDefaults(d: KubeObject) {
  d.spec ??= {};
  setDefault(d.spec, "replicas", 1);
  setDefault(d.spec, "strategy", { type: "RollingUpdate" });
  setDefault(d.spec.strategy, "type", "RollingUpdate");
  if (d.spec.strategy.type === "RollingUpdate") {
    setDefault(d.spec.strategy, "rollingUpdate", {});
    setDefault(d.spec.strategy.rollingUpdate, "maxUnavailable", "25%");
    setDefault(d.spec.strategy.rollingUpdate, "maxSurge", "25%");
  }
  setDefault(d.spec, "revisionHistoryLimit", 10);
  setDefault(d.spec, "progressDeadlineSeconds", 600);
  d.spec.template ??= {};
  d.spec.template.metadata ??= {};
  podSpecDefaults(d.spec.template.spec);
}

export function serviceDefaults(s: KubeObject, allocateIp: () => string) {
  s.spec ??= {};
  setDefault(s.spec, "type", "ClusterIP");
  setDefault(s.spec, "sessionAffinity", "None");
  if (s.spec.type !== "ExternalName") {
    if (!s.spec.clusterIP) s.spec.clusterIP = allocateIp();
    setDefault(s.spec, "clusterIPs", [s.spec.clusterIP]);
    setDefault(s.spec, "ipFamilies", ["IPv4"]);
    setDefault(s.spec, "ipFamilyPolicy", "SingleStack");
    setDefault(s.spec, "internalTrafficPolicy", "Cluster");
  }
  for (const p of s.spec.ports ?? []) {
    setDefault(p, "protocol", "TCP");
    setDefault(p, "targetPort", p.port);
  }
}

/** `stringData` is written into `data` (base64) and never stored. */
export function secretDefaults(s: KubeObject) {
  setDefault(s, "type", "Opaque");
  if (s.stringData) {
    s.data ??= {};
    for (const [k, v] of Object.entries(s.stringData)) s.data[k] = encodeBase64(String(v));
    delete s.stringData;
  }
}

export function pvcDefaults(p: KubeObject, defaultStorageClass: string) {
  p.spec ??= {};
  setDefault(p.spec, "volumeMode", "Filesystem");
  setDefault(p.spec, "storageClassName", defaultStorageClass);
}

export function networkPolicyDefaults(n: KubeObject) {
  n.spec ??= {};
  setDefault(n.spec, "podSelector", {});
  if (!n.spec.policyTypes?.length) {
    n.spec.policyTypes = ["Ingress", ...(n.spec.egress?.length ? ["Egress"] : [])];
  }
  for (const rule of [...(n.spec.ingress ?? []), ...(n.spec.egress ?? [])]) {
    for (const p of rule.ports ?? []) setDefault(p, "protocol", "TCP");
  }
}

export function namespaceDefaults(n: KubeObject) {
  n.metadata.labels = { ...(n.metadata.labels ?? {}), "kubernetes.io/metadata.name": n.metadata.name! };
  n.spec = { finalizers: ["kubernetes"], ...clone(n.spec ?? {}) };
}

export function encodeBase64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

export function decodeBase64(b64: string): Uint8Array {
  const bin = atob(b64);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}
