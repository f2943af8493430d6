/**
 * The editor's local check of openclaw.json text, shared by the API (before anything goes to the
 * instance) and the island (as the user types). Claworc reads and rewrites the file as plain JSON
 * (the models feature merges its parts into it), so JSON5 extras that OpenClaw itself would accept
 * (comments, trailing commas, unquoted keys) are refused here with a message saying so.
 *
 * A small iterative scanner rather than `JSON.parse`: it names the exact line and column of the
 * first mistake in the same words in every browser and on the server, and no nesting depth can
 * overflow its stack.
 */

/** Where the first mistake is: 1-based line and column (UTF-16 units, as a textarea counts), and the offset. */
export interface JsonSyntaxError {
  line: number;
  column: number;
  offset: number;
  message: string;
}

/** The path OpenClaw's validator uses for problems with the file as a whole. */
export const ROOT_PATH = "<root>";

/** The first syntax mistake in `text`, or null when it is one JSON object (and nothing else). */
export function jsonSyntaxError(text: string): JsonSyntaxError | null {
  const found = scan(text);
  if (found) return { ...position(text, found.at), offset: found.at, message: found.message };
  return null;
}

/** The issue the API answers for a syntax mistake (same shape as OpenClaw's validator issues). */
export function syntaxIssue(e: JsonSyntaxError): { path: string; message: string } {
  return { path: ROOT_PATH, message: `JSON syntax error at line ${e.line} column ${e.column}: ${e.message}` };
}

function position(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

interface Found {
  at: number;
  message: string;
}

/** What a container expects next. */
type Expect = "key-or-end" | "key" | "colon" | "comma-or-end" | "value-or-end" | "value";

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

function describe(text: string, i: number): string {
  if (i >= text.length) return "the end of the text";
  const c = text[i];
  if (c === "\n") return "a line break";
  if (c === "/" && (text[i + 1] === "/" || text[i + 1] === "*")) return "a comment";
  if (c === "'") return "a single quote";
  if (c === '"') return "a double quote";
  const code = c.codePointAt(0)!;
  if (code < 0x20) return `the control character U+${code.toString(16).padStart(4, "0").toUpperCase()}`;
  return `"${String.fromCodePoint(code)}"`;
}

function unexpected(text: string, i: number, wanted: string): Found {
  const got = describe(text, i);
  let hint = "";
  if (got === "a comment") hint = " (comments are JSON5; Claworc needs plain JSON)";
  else if (got === "a single quote") hint = " (strings and keys take double quotes in JSON)";
  else if (got === "a double quote" && wanted.startsWith('","')) hint = " (a missing comma?)";
  return { at: i, message: `expected ${wanted}, found ${got}${hint}` };
}

function scan(text: string): Found | null {
  let i = 0;
  const n = text.length;
  const skip = () => {
    while (i < n && WS.has(text.charCodeAt(i))) i++;
  };
  skip();
  if (i >= n) return { at: i, message: "the configuration is empty; it must be a JSON object ({ ... })" };
  if (text[i] !== "{") {
    return { at: i, message: `openclaw.json must hold one JSON object ({ ... }), found ${describe(text, i)}` };
  }
  /** Open containers: "}" or "]" for each. */
  const stack: string[] = [];
  let expect: Expect = "value";
  for (;;) {
    skip();
    if (expect === "value" || expect === "value-or-end") {
      if (expect === "value-or-end" && text[i] === "]") {
        stack.pop();
        i++;
        expect = "comma-or-end";
      } else if (text[i] === "{") {
        stack.push("}");
        i++;
        expect = "key-or-end";
      } else if (text[i] === "[") {
        stack.push("]");
        i++;
        expect = "value-or-end";
      } else {
        const bad = scalar(text, i);
        if (typeof bad !== "number") return bad;
        i = bad;
        expect = "comma-or-end";
      }
    } else if (expect === "key" || expect === "key-or-end") {
      if (expect === "key-or-end" && text[i] === "}") {
        stack.pop();
        i++;
        expect = "comma-or-end";
      } else if (text[i] === '"') {
        const end = string(text, i);
        if (typeof end !== "number") return end;
        i = end;
        expect = "colon";
      } else if (expect === "key" && text[i] === "}") {
        return { at: i, message: 'expected a property name after ",", found "}" (trailing commas are not JSON)' };
      } else {
        return unexpected(text, i, expect === "key" ? "a property name in double quotes" : 'a property name or "}"');
      }
    } else if (expect === "colon") {
      if (text[i] !== ":") return unexpected(text, i, '":" after the property name');
      i++;
      expect = "value";
    } else {
      // comma-or-end
      if (stack.length === 0) {
        if (i < n) return unexpected(text, i, "nothing after the closing brace");
        return null;
      }
      const close = stack[stack.length - 1];
      if (text[i] === ",") {
        i++;
        if (close === "}") expect = "key";
        else {
          skip();
          if (text[i] === "]") {
            return { at: i, message: 'expected a value after ",", found "]" (trailing commas are not JSON)' };
          }
          expect = "value";
        }
      } else if (text[i] === close) {
        stack.pop();
        i++;
      } else {
        return unexpected(text, i, `"," or "${close}"`);
      }
    }
    if (expect === "value" && i >= n) return unexpected(text, i, "a value");
  }
}

/** Scans a string, number or literal at `i`; returns the offset after it, or the mistake. */
function scalar(text: string, i: number): number | Found {
  const c = text[i];
  if (c === '"') return string(text, i);
  if (c === "-" || (c >= "0" && c <= "9")) return number(text, i);
  for (const word of ["true", "false", "null"]) {
    if (text.startsWith(word, i)) return i + word.length;
  }
  return unexpected(text, i, "a value (object, array, string, number, true, false or null)");
}

function string(text: string, start: number): number | Found {
  let i = start + 1;
  for (;;) {
    if (i >= text.length) return { at: start, message: "this string is never closed (missing '\"')" };
    const code = text.charCodeAt(i);
    if (code === 0x22) return i + 1;
    if (code < 0x20) {
      return {
        at: i,
        message: code === 10
          ? "line break inside a string (missing '\"' before the end of the line?)"
          : `control character U+${
            code.toString(16).padStart(4, "0").toUpperCase()
          } inside a string (write it escaped)`,
      };
    }
    if (code === 0x5c) {
      const e = text[i + 1];
      if (e === "u") {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
          return { at: i, message: "\\u must be followed by four hexadecimal digits" };
        }
        i += 6;
        continue;
      }
      if (e === undefined || !'"\\/bfnrt'.includes(e)) {
        return { at: i, message: `invalid escape "\\${e ?? ""}" in a string` };
      }
      i += 2;
      continue;
    }
    i++;
  }
}

function number(text: string, start: number): number | Found {
  const m = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(text.slice(start, start + 400));
  if (!m) return { at: start, message: "invalid number" };
  const end = start + m[0].length;
  const next = text[end];
  if (next !== undefined && /[0-9A-Za-z.+\-]/.test(next)) {
    return { at: start, message: `invalid number "${text.slice(start, end + 1)}"` };
  }
  return end;
}
