/** Parsing what a logs stream sent so far (the text `readEvents` collected). */

export interface SseEvent {
  event: string;
  data: unknown;
}

/** Complete events in `text` (comments such as keep-alives skipped), in order. */
export function parseEvents(text: string): SseEvent[] {
  const out: SseEvent[] = [];
  for (const block of text.split("\n\n").slice(0, -1)) {
    let event = "message";
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("event: ")) event = line.slice(7);
      else if (line.startsWith("data: ")) data.push(line.slice(6));
    }
    if (data.length) out.push({ event, data: JSON.parse(data.join("\n")) });
  }
  return out;
}

/** Every log line the `line` events carried, in order. */
export function logLines(text: string): string[] {
  return parseEvents(text).filter((e) => e.event === "line").flatMap((e) => e.data as string[]);
}

/** The data of every event named `name`. */
export function eventsNamed<T = Record<string, unknown>>(text: string, name: string): T[] {
  return parseEvents(text).filter((e) => e.event === name).map((e) => e.data as T);
}
