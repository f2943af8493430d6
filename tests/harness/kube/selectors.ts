/**
 * Label selectors (equality- and set-based, as `labels.Parse` reads them) and field selectors
 * (`metadata.name`, `metadata.namespace`, plus the few fields a resource indexes).
 */
import { badRequest } from "./status.ts";
import type { Json, KubeObject } from "./types.ts";

export type Requirement =
  | { key: string; op: "=" | "!="; value: string }
  | { key: string; op: "in" | "notin"; values: string[] }
  | { key: string; op: "exists" | "!exists" };

/** Parses `app=x,tier!=db,env in (a,b),!legacy,team`; throws a 400 Status on bad syntax. */
export function parseLabelSelector(text: string | null | undefined): Requirement[] {
  const src = (text ?? "").trim();
  if (!src) return [];
  const out: Requirement[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw badRequest(`unable to parse requirement: ${why}`);
  };
  const ws = () => {
    while (src[i] === " ") i++;
  };
  const word = () => {
    ws();
    const m = src.slice(i).match(/^[A-Za-z0-9._\-/]+/);
    if (!m) return "";
    i += m[0].length;
    return m[0];
  };
  while (i < src.length) {
    ws();
    if (src[i] === "!") {
      i++;
      const key = word();
      if (!key) fail(`found '${src[i] ?? "EOS"}', expected: identifier`);
      out.push({ key, op: "!exists" });
    } else {
      const key = word();
      if (!key) fail(`found '${src[i] ?? "EOS"}', expected: identifier`);
      ws();
      const rest = src.slice(i);
      let m: RegExpMatchArray | null;
      if (rest.startsWith("==") || rest.startsWith("!=") || rest.startsWith("=")) {
        const op = rest.startsWith("!=") ? "!=" : "=";
        i += rest.startsWith("=") && !rest.startsWith("==") ? 1 : 2;
        ws();
        const m2 = src.slice(i).match(/^[A-Za-z0-9._\-]*/)!;
        i += m2[0].length;
        out.push({ key, op, value: m2[0] });
      } else if ((m = rest.match(/^(in|notin)\s*\(/))) {
        i += m[0].length;
        const close = src.indexOf(")", i);
        if (close < 0) fail("found 'EOS', expected: ')'");
        const values = src.slice(i, close).split(",").map((v) => v.trim()).filter((v, _n, all) => v || all.length > 1);
        i = close + 1;
        out.push({ key, op: m[1] as "in" | "notin", values });
      } else {
        out.push({ key, op: "exists" });
      }
    }
    ws();
    if (i < src.length) {
      if (src[i] !== ",") fail(`found '${src[i]}', expected: ',' or 'end of string'`);
      i++;
    }
  }
  for (const r of out) {
    if (!/^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(r.key)) {
      fail(`invalid label key "${r.key}"`);
    }
  }
  return out;
}

export function matchesLabels(reqs: Requirement[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return reqs.every((r) => {
    const has = Object.hasOwn(l, r.key);
    switch (r.op) {
      case "=":
        return has && l[r.key] === r.value;
      case "!=":
        return !has || l[r.key] !== r.value;
      case "in":
        return has && r.values.includes(l[r.key]);
      case "notin":
        return !has || !r.values.includes(l[r.key]);
      case "exists":
        return has;
      case "!exists":
        return !has;
    }
  });
}

/** A LabelSelector object (`matchLabels`, `matchExpressions`) as requirements. */
export function selectorRequirements(selector: Json): Requirement[] {
  const out: Requirement[] = [];
  for (const [key, value] of Object.entries(selector?.matchLabels ?? {})) {
    out.push({ key, op: "=", value: String(value) });
  }
  for (const e of selector?.matchExpressions ?? []) {
    const op = String(e.operator);
    if (op === "In") out.push({ key: e.key, op: "in", values: e.values ?? [] });
    else if (op === "NotIn") out.push({ key: e.key, op: "notin", values: e.values ?? [] });
    else if (op === "Exists") out.push({ key: e.key, op: "exists" });
    else if (op === "DoesNotExist") out.push({ key: e.key, op: "!exists" });
  }
  return out;
}

/** A LabelSelector object in the text form `Scale.status.selector` uses. */
export function selectorString(selector: Json): string {
  return selectorRequirements(selector).map((r) => {
    switch (r.op) {
      case "=":
        return `${r.key}=${r.value}`;
      case "!=":
        return `${r.key}!=${r.value}`;
      case "in":
        return `${r.key} in (${[...r.values].sort().join(",")})`;
      case "notin":
        return `${r.key} notin (${[...r.values].sort().join(",")})`;
      case "exists":
        return r.key;
      case "!exists":
        return `!${r.key}`;
    }
  }).sort().join(",");
}

export interface FieldRequirement {
  field: string;
  op: "=" | "!=";
  value: string;
}

/**
 * Parses a field selector; `fields` lists what the resource supports (besides metadata.name and
 * metadata.namespace). Unknown fields are a 400 as from the server.
 */
export function parseFieldSelector(
  text: string | null | undefined,
  fields: string[],
  kind: string,
): FieldRequirement[] {
  const src = (text ?? "").trim();
  if (!src) return [];
  const known = ["metadata.name", "metadata.namespace", ...fields];
  return src.split(",").map((part) => {
    const m = part.trim().match(/^([^!=]+?)\s*(==|!=|=)\s*(.*)$/);
    if (!m) throw badRequest(`invalid selector: '${src}'; can't understand '${part}'`);
    const field = m[1].trim();
    if (!known.includes(field)) {
      throw badRequest(
        kind === "Pod"
          ? `field label not supported: ${field}`
          : `"${field}" is not a known field selector: only "metadata.name", "metadata.namespace"`,
      );
    }
    return { field, op: m[2] === "!=" ? "!=" : "=", value: m[3].trim() };
  });
}

function fieldValue(obj: KubeObject, path: string): string {
  let cur: Json = obj;
  for (const part of path.split(".")) cur = cur?.[part];
  return cur === undefined || cur === null ? "" : String(cur);
}

export function matchesFields(reqs: FieldRequirement[], obj: KubeObject): boolean {
  return reqs.every((r) => (fieldValue(obj, r.field) === r.value) === (r.op === "="));
}
