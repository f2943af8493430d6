/** Helpers of the log viewer that need no browser: the bounded buffer, search matches, file names. */

/** One received line, numbered in arrival order (a stable key while old lines scroll away). */
export interface LogLine {
  n: number;
  text: string;
}

/** `buffer` with `texts` appended as lines numbered from `next`, keeping only the newest `max`. */
export function appendBounded(
  buffer: readonly LogLine[],
  texts: readonly string[],
  next: number,
  max: number,
): LogLine[] {
  const added = texts.map((text, i) => ({ n: next + i, text }));
  const all = buffer.length + added.length;
  return all <= max ? [...buffer, ...added] : [...buffer, ...added].slice(all - max);
}

/**
 * `term` as a literal, case-insensitive pattern. A regular expression, not `toLowerCase()` + `indexOf`:
 * lowercasing can change a string's length (`İ` becomes two code units), which shifted every match
 * after such a character.
 */
function literal(term: string, flags: string): RegExp {
  return new RegExp(term.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), flags);
}

/** A line cut into plain and matching parts for highlighting (case-insensitive, literal search). */
export function highlightParts(text: string, term: string): { text: string; match: boolean }[] {
  if (!term) return [{ text, match: false }];
  const parts: { text: string; match: boolean }[] = [];
  let at = 0;
  for (const m of text.matchAll(literal(term, "gi"))) {
    if (m.index > at) parts.push({ text: text.slice(at, m.index), match: false });
    parts.push({ text: m[0], match: true });
    at = m.index + m[0].length;
  }
  if (at < text.length || parts.length === 0) parts.push({ text: text.slice(at), match: false });
  return parts;
}

/** How many lines contain `term` (case-insensitive). */
export function countMatching(lines: readonly LogLine[], term: string): number {
  if (!term) return 0;
  const pattern = literal(term, "i");
  return lines.reduce((n, l) => n + (pattern.test(l.text) ? 1 : 0), 0);
}

/** The buffer as the text of a `.log` file (one line each, newline-terminated). */
export function logFileText(lines: readonly LogLine[]): string {
  return lines.map((l) => l.text + "\n").join("");
}

/** `instance-7-sshd-20260131-120000.log` (UTC time of the download). */
export function logFileName(instanceId: number, type: string, at: Date): string {
  const stamp = at.toISOString().slice(0, 19).replace(/[-:]/g, "").replace("T", "-");
  return `instance-${instanceId}-${type}-${stamp}.log`;
}
