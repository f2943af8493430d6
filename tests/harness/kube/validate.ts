/**
 * Basic validation as the API server's `Validate*` functions report it (field paths and messages
 * match; only the common rules are checked: names, labels, required fields, pod spec shape, selectors,
 * immutable fields).
 */
import { matchesLabels, selectorRequirements } from "./selectors.ts";
import {
  duplicate,
  type FieldError,
  fieldForbidden,
  fieldNotFound,
  invalid,
  notSupported,
  required,
} from "./status.ts";
import { isQuantity, parseQuantity } from "./quantity.ts";
import { type Json, jsonEqual, type KubeObject } from "./types.ts";

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_MSG =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

export type NameRule = "subdomain" | "label" | "dns1035";

export function validateMeta(meta: Json, rule: NameRule, path = "metadata"): FieldError[] {
  const errs: FieldError[] = [];
  const name = meta?.name;
  if (!name) errs.push(required(`${path}.name`, "name or generateName is required"));
  else if (rule === "subdomain" && (name.length > 253 || !DNS1123_SUBDOMAIN.test(name))) {
    errs.push(invalid(`${path}.name`, name, name.length > 253 ? "must be no more than 253 characters" : SUBDOMAIN_MSG));
  } else if (rule === "label" && (name.length > 63 || !DNS1123_LABEL.test(name))) {
    errs.push(invalid(`${path}.name`, name, name.length > 63 ? "must be no more than 63 characters" : LABEL_MSG));
  } else if (rule === "dns1035" && (name.length > 63 || !DNS1035_LABEL.test(name))) {
    errs.push(invalid(`${path}.name`, name, name.length > 63 ? "must be no more than 63 characters" : DNS1035_MSG));
  }
  errs.push(...validateLabels(meta?.labels, `${path}.labels`));
  return errs;
}

export function validateLabels(labels: Json, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    const value = String(v);
    if (value.length > 63) errs.push(invalid(path, value, "must be no more than 63 characters"));
    else if (!LABEL_VALUE.test(value)) errs.push(invalid(path, value, LABEL_VALUE_MSG));
    const namepart = k.includes("/") ? k.slice(k.indexOf("/") + 1) : k;
    if (!namepart || namepart.length > 63 || !/^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/.test(namepart)) {
      errs.push(
        invalid(
          path,
          k,
          "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
        ),
      );
    }
  }
  return errs;
}

const VOLUME_SOURCES = [
  "emptyDir",
  "secret",
  "persistentVolumeClaim",
  "configMap",
  "hostPath",
  "projected",
  "downwardAPI",
  "ephemeral",
  "nfs",
  "csi",
];

function validateContainers(list: Json, path: string, volumes: Set<string>, needOne: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (!Array.isArray(list) || list.length === 0) {
    if (needOne) errs.push(required(path));
    return errs;
  }
  const names = new Set<string>();
  list.forEach((c: Json, i: number) => {
    const p = `${path}[${i}]`;
    if (!c?.name) errs.push(required(`${p}.name`));
    else if (!DNS1123_LABEL.test(c.name) || c.name.length > 63) errs.push(invalid(`${p}.name`, c.name, LABEL_MSG));
    else if (names.has(c.name)) errs.push(duplicate(`${p}.name`, c.name));
    else names.add(c.name);
    if (!c?.image) errs.push(required(`${p}.image`));
    const mounts = new Set<string>();
    (c?.volumeMounts ?? []).forEach((m: Json, j: number) => {
      const mp = `${p}.volumeMounts[${j}]`;
      if (!m?.name) errs.push(required(`${mp}.name`));
      else if (!volumes.has(m.name)) errs.push(fieldNotFound(`${mp}.name`, m.name));
      if (!m?.mountPath) errs.push(required(`${mp}.mountPath`));
      else if (mounts.has(m.mountPath)) errs.push(invalid(`${mp}.mountPath`, m.mountPath, "must be unique"));
      else mounts.add(m.mountPath);
    });
    (c?.ports ?? []).forEach((port: Json, j: number) => {
      const n = port?.containerPort;
      if (!(Number.isInteger(n) && n >= 1 && n <= 65535)) {
        errs.push(invalid(`${p}.ports[${j}].containerPort`, n ?? 0, "must be between 1 and 65535, inclusive"));
      }
    });
    (c?.env ?? []).forEach((e: Json, j: number) => {
      if (!e?.name) errs.push(required(`${p}.env[${j}].name`));
    });
    for (const kind of ["limits", "requests"]) {
      for (const [r, q] of Object.entries(c?.resources?.[kind] ?? {})) {
        if (!isQuantity(q)) errs.push(invalid(`${p}.resources.${kind}[${r}]`, q, "must be a valid quantity"));
      }
    }
    for (const [r, q] of Object.entries(c?.resources?.requests ?? {})) {
      const lim = c?.resources?.limits?.[r];
      if (lim !== undefined && (parseQuantity(q) ?? 0) > (parseQuantity(lim) ?? Infinity)) {
        errs.push(invalid(`${p}.resources.requests`, q, `must be less than or equal to ${r} limit of ${lim}`));
      }
    }
  });
  return errs;
}

/** ValidatePodSpec's common rules at `path` (`spec` or `spec.template.spec`). */
export function validatePodSpec(spec: Json, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!spec) return [required(`${path}.containers`)];
  const volumes = new Set<string>();
  (spec.volumes ?? []).forEach((v: Json, i: number) => {
    const p = `${path}.volumes[${i}]`;
    if (!v?.name) errs.push(required(`${p}.name`));
    else if (volumes.has(v.name)) errs.push(duplicate(`${p}.name`, v.name));
    else volumes.add(v.name);
    const sources = VOLUME_SOURCES.filter((s) => v?.[s] !== undefined);
    if (sources.length === 0) errs.push(required(p, "must specify a volume type"));
    if (sources.length > 1) errs.push(fieldForbidden(`${p}.${sources[1]}`, "may not specify more than 1 volume type"));
    if (v?.secret && !v.secret.secretName) errs.push(required(`${p}.secret.secretName`));
    if (v?.persistentVolumeClaim && !v.persistentVolumeClaim.claimName) {
      errs.push(required(`${p}.persistentVolumeClaim.claimName`));
    }
  });
  errs.push(...validateContainers(spec.containers, `${path}.containers`, volumes, true));
  errs.push(...validateContainers(spec.initContainers, `${path}.initContainers`, volumes, false));
  if (spec.restartPolicy && !["Always", "OnFailure", "Never"].includes(spec.restartPolicy)) {
    errs.push(notSupported(`${path}.restartPolicy`, spec.restartPolicy, ["Always", "OnFailure", "Never"]));
  }
  return errs;
}

export function validateDeployment(d: KubeObject, old?: KubeObject): FieldError[] {
  const errs = validateMeta(d.metadata, "subdomain");
  const spec = d.spec ?? {};
  if (spec.replicas !== undefined && !(Number.isInteger(spec.replicas) && spec.replicas >= 0)) {
    errs.push(invalid("spec.replicas", spec.replicas, "must be greater than or equal to 0"));
  }
  const selector = spec.selector;
  const templateLabels = spec.template?.metadata?.labels ?? {};
  if (!selector) errs.push(required("spec.selector"));
  else if (selectorRequirements(selector).length === 0) {
    errs.push(invalid("spec.selector", selector, "empty selector is invalid for deployment"));
  } else if (!matchesLabels(selectorRequirements(selector), templateLabels)) {
    errs.push(invalid("spec.template.metadata.labels", templateLabels, "`selector` does not match template `labels`"));
  }
  errs.push(...validateLabels(spec.template?.metadata?.labels, "spec.template.metadata.labels"));
  errs.push(...validatePodSpec(spec.template?.spec, "spec.template.spec"));
  const rp = spec.template?.spec?.restartPolicy;
  if (rp && rp !== "Always") errs.push(notSupported("spec.template.spec.restartPolicy", rp, ["Always"]));
  const type = spec.strategy?.type;
  if (type && !["Recreate", "RollingUpdate"].includes(type)) {
    errs.push(notSupported("spec.strategy.type", type, ["Recreate", "RollingUpdate"]));
  }
  if (type === "Recreate" && spec.strategy?.rollingUpdate) {
    errs.push(fieldForbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'"));
  }
  if (old && selector && !jsonEqual(selector, old.spec?.selector)) {
    errs.push(invalid("spec.selector", selector, "field is immutable"));
  }
  return errs;
}

export function validatePod(p: KubeObject, old?: KubeObject): FieldError[] {
  const errs = validateMeta(p.metadata, "subdomain");
  errs.push(...validatePodSpec(p.spec, "spec"));
  if (old) {
    const strip = (spec: Json) => {
      const s = structuredClone(spec ?? {});
      for (const c of [...(s.containers ?? []), ...(s.initContainers ?? [])]) delete c.image;
      delete s.activeDeadlineSeconds;
      delete s.tolerations;
      return s;
    };
    if (!jsonEqual(strip(p.spec), strip(old.spec))) {
      errs.push(
        fieldForbidden(
          "spec",
          "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
        ),
      );
    }
  }
  return errs;
}

export function validateService(s: KubeObject, old?: KubeObject): FieldError[] {
  const errs = validateMeta(s.metadata, "dns1035");
  const spec = s.spec ?? {};
  const types = ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"];
  if (spec.type && !types.includes(spec.type)) errs.push(notSupported("spec.type", spec.type, types));
  const ports: Json[] = spec.ports ?? [];
  if (spec.type !== "ExternalName" && spec.clusterIP !== "None" && ports.length === 0) {
    errs.push(required("spec.ports"));
  }
  ports.forEach((p, i) => {
    if (ports.length > 1 && !p?.name) errs.push(required(`spec.ports[${i}].name`));
    if (!(Number.isInteger(p?.port) && p.port >= 1 && p.port <= 65535)) {
      errs.push(invalid(`spec.ports[${i}].port`, p?.port ?? 0, "must be between 1 and 65535, inclusive"));
    }
  });
  if (old && old.spec?.clusterIP && spec.clusterIP !== old.spec.clusterIP) {
    errs.push(invalid("spec.clusterIPs[0]", spec.clusterIP ?? "", "may not change once set"));
  }
  return errs;
}

export function validateSecret(s: KubeObject, old?: KubeObject): FieldError[] {
  const errs = validateMeta(s.metadata, "subdomain");
  let size = 0;
  for (const [k, v] of Object.entries(s.data ?? {})) {
    if (!CONFIG_KEY.test(k)) {
      errs.push(
        invalid(
          `data[${k}]`,
          k,
          "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
        ),
      );
    }
    size += Math.floor(String(v).length * 3 / 4);
  }
  if (size > 1024 * 1024) errs.push({ type: "TooLong", field: "data", detail: "must have at most 1048576 bytes" });
  if (old) {
    if ((s.type ?? "Opaque") !== (old.type ?? "Opaque")) errs.push(invalid("type", s.type, "field is immutable"));
    if (old.immutable === true) {
      if (!jsonEqual(s.data ?? {}, old.data ?? {})) {
        errs.push(fieldForbidden("data", "field is immutable when `immutable` is set"));
      }
      if (s.immutable !== true) errs.push(fieldForbidden("immutable", "field is immutable when `immutable` is set"));
    }
  }
  return errs;
}

export function validatePvc(p: KubeObject, old?: KubeObject): FieldError[] {
  const errs = validateMeta(p.metadata, "subdomain");
  const spec = p.spec ?? {};
  const modes = ["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"];
  if (!spec.accessModes?.length) errs.push(required("spec.accessModes", "at least 1 access mode is required"));
  for (const m of spec.accessModes ?? []) if (!modes.includes(m)) errs.push(notSupported("spec.accessModes", m, modes));
  const storage = spec.resources?.requests?.storage;
  if (storage === undefined) errs.push(required("spec.resources[storage]"));
  else if (!isQuantity(storage)) errs.push(invalid("spec.resources[storage]", storage, "must be a valid quantity"));
  if (old) {
    const strip = (s: Json) => ({ ...s, resources: undefined, volumeAttributesClassName: undefined });
    if (!jsonEqual(strip(spec), strip(old.spec ?? {}))) {
      errs.push(
        fieldForbidden(
          "spec",
          "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims",
        ),
      );
    }
    const before = parseQuantity(old.spec?.resources?.requests?.storage) ?? 0;
    if ((parseQuantity(storage) ?? 0) < before) {
      errs.push(fieldForbidden("spec.resources.requests.storage", "field can not be less than status.capacity"));
    }
  }
  return errs;
}

export function validateNetworkPolicy(n: KubeObject): FieldError[] {
  const errs = validateMeta(n.metadata, "subdomain");
  (n.spec?.policyTypes ?? []).forEach((t: string, i: number) => {
    if (t !== "Ingress" && t !== "Egress") errs.push(notSupported(`spec.policyTypes[${i}]`, t, ["Ingress", "Egress"]));
  });
  return errs;
}

export function validateNamespace(n: KubeObject): FieldError[] {
  return validateMeta(n.metadata, "label");
}

export function validateEvent(e: KubeObject): FieldError[] {
  const errs = validateMeta(e.metadata, "subdomain");
  if (!e.involvedObject) errs.push(required("involvedObject"));
  return errs;
}
