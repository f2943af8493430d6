/**
 * The engine's container log as lines. Without a TTY, Docker's API frames each write with an 8-byte
 * header (stream id, three zero bytes, big-endian length); the runtime backend hands it over as text,
 * so those headers are still there, decoded as 4 characters each (bytes ≥ 0x80 became U+FFFD). They
 * only ever start the text or follow a newline, because each frame is one line of output.
 */
// deno-lint-ignore no-control-regex
const FRAME_HEADER = /(^|\n)[\x00-\x02]\x00\x00\x00[\s\S]{4}/g;

/** The last `tail` lines of `text` (a container log), without frame headers or a trailing empty line. */
export function containerLogLines(text: string, tail: number): string[] {
  // Replace until stable: a header right after an empty frame's newline overlaps the previous match.
  let clean = text;
  for (let prev = ""; prev !== clean;) [prev, clean] = [clean, clean.replace(FRAME_HEADER, "$1")];
  const lines = clean.split("\n").map((l) => l.endsWith("\r") ? l.slice(0, -1) : l);
  if (lines.at(-1) === "") lines.pop();
  return lines.slice(-tail);
}
