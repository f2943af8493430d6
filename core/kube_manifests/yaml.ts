/**
 * A small YAML emitter for plain data (objects, arrays, strings, finite numbers, booleans, null), enough
 * for Kubernetes manifests. Keys keep their insertion order, so the output is deterministic. A string is
 * written plain only when every YAML 1.1 and 1.2 reader takes it back as that same string (kubectl,
 * client libraries and older tools disagree on `yes`, `on`, `0755`, `1e3`...); anything else is
 * double-quoted with JSON escapes, which YAML's double-quoted style accepts.
 */

/** Words YAML 1.1 or 1.2 reads as booleans or null rather than as text. */
const KEYWORDS = /^(?:~|null|true|false|yes|no|on|off|y|n)$/i;

/** Starts with a letter, `_` or `/` (never an indicator, digit, sign or dot) and uses no flow, comment or space characters. */
const PLAIN = /^[A-Za-z_/][A-Za-z0-9_./@:-]*$/;

/** Characters some YAML readers take as line breaks or drop, escaped even inside quotes. */
const UNSAFE_IN_QUOTES = /[\u0080-\u009f\u2028\u2029\ufeff]/g;

/** True when `s` can be written without quotes and still read back as the same string. */
export function isPlainSafe(s: string): boolean {
  return PLAIN.test(s) && !KEYWORDS.test(s) && !s.endsWith(":");
}

/** One scalar as YAML: plain when safe, else double-quoted. */
export function yamlScalar(value: string | number | boolean | null): string {
  if (value === null) return "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError(`Cannot write ${value} as YAML.`);
    return String(value);
  }
  if (isPlainSafe(value)) return value;
  return JSON.stringify(value).replace(
    UNSAFE_IN_QUOTES,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

function isScalar(v: unknown): v is string | number | boolean | null {
  return v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean";
}

function isMap(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Entries of a map that are written (`undefined` means "leave the key out"). */
function entriesOf(map: Record<string, unknown>): [string, unknown][] {
  return Object.entries(map).filter(([, v]) => v !== undefined);
}

/** The block lines of a non-empty map or array, every line starting with `indent` spaces. */
function blockLines(value: Record<string, unknown> | unknown[], indent: number, path: string): string[] {
  const pad = " ".repeat(indent);
  const lines: string[] = [];
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      const where = `${path}[${i}]`;
      if (item === undefined) throw new TypeError(`Cannot write undefined as YAML (at ${where}).`);
      const inline = inlineOf(item, where);
      if (inline !== null) {
        lines.push(`${pad}- ${inline}`);
        return;
      }
      // A nested block goes two spaces deeper; its first line carries the dash instead.
      const nested = blockLines(item as Record<string, unknown> | unknown[], indent + 2, where);
      nested[0] = `${pad}- ${nested[0].slice(indent + 2)}`;
      lines.push(...nested);
    });
    return lines;
  }
  for (const [key, item] of entriesOf(value)) {
    const where = path ? `${path}.${key}` : key;
    const inline = inlineOf(item, where);
    if (inline !== null) lines.push(`${pad}${yamlScalar(key)}: ${inline}`);
    else {
      lines.push(`${pad}${yamlScalar(key)}:`);
      lines.push(...blockLines(item as Record<string, unknown> | unknown[], indent + 2, where));
    }
  }
  return lines;
}

/** A value that fits on its key's line (scalars, `{}`, `[]`), or null when it needs a block. */
function inlineOf(value: unknown, where: string): string | null {
  if (isScalar(value)) return yamlScalar(value);
  if (Array.isArray(value)) return value.length === 0 ? "[]" : null;
  if (isMap(value)) return entriesOf(value).length === 0 ? "{}" : null;
  throw new TypeError(`Cannot write ${typeof value} as YAML (at ${where || "the top"}).`);
}

/** One value as a YAML document body (no `---`), ending with a newline. */
export function toYaml(value: unknown): string {
  const inline = inlineOf(value, "");
  if (inline !== null) return inline + "\n";
  return blockLines(value as Record<string, unknown> | unknown[], 0, "").join("\n") + "\n";
}

/** A document of a multi-document stream, with optional comment lines written above it. */
export interface YamlDocument {
  comment?: string[];
  value: unknown;
}

/** Comment lines (`# ...`); a line break inside a comment would end it, so it is refused. */
function commentLines(lines: string[]): string {
  return lines.map((l) => {
    if (/[\r\n]/.test(l)) throw new TypeError("A YAML comment line cannot contain a line break.");
    return l ? `# ${l}\n` : "#\n";
  }).join("");
}

/** A multi-document stream: the header comment, then each document after `---`. */
export function toYamlStream(documents: YamlDocument[], header: string[] = []): string {
  let out = commentLines(header);
  for (const d of documents) out += "---\n" + commentLines(d.comment ?? []) + toYaml(d.value);
  return out;
}
