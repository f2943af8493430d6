/** The last `tail` lines of a container log (the runtime backend hands it over as plain text). */
export function containerLogLines(text: string, tail: number): string[] {
  const lines = text.split("\n").map((l) => l.endsWith("\r") ? l.slice(0, -1) : l);
  if (lines.at(-1) === "") lines.pop();
  return lines.slice(-tail);
}
