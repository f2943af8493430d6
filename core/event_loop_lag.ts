import { SampleWindow } from "./metrics_window.ts";

/** How often the loop is sampled, and how many samples are kept (one minute). */
const TICK_MS = 100;
const WINDOW = 600;

/**
 * Measures event-loop lag: a timer asks to run every 100 ms and records how late it ran. Under load
 * (many connections, bursts of probes) this is the delay every request and socket message sees.
 */
export class EventLoopLag {
  readonly samples = new SampleWindow(WINDOW);
  #timer: ReturnType<typeof setInterval> | undefined;

  start(): void {
    if (this.#timer) return;
    let expected = performance.now() + TICK_MS;
    this.#timer = setInterval(() => {
      const now = performance.now();
      this.samples.add(Math.max(0, now - expected));
      expected = now + TICK_MS;
    }, TICK_MS);
    Deno.unrefTimer(this.#timer);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
