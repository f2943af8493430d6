/** Reads a `text/event-stream` response in the background; `text()` is everything received so far. */
export function readEvents(res: Response): { text(): string; cancel(): void } {
  if (res.status !== 200) throw new Error(`event stream answered ${res.status}`);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: "", done: true }));
      if (done) return;
      text += value;
    }
  })();
  return { text: () => text, cancel: () => void reader.cancel().catch(() => {}) };
}
