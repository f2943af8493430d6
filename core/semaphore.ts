/** At most `limit` tasks at once; the rest wait in arrival order. */
export class Semaphore {
  #active = 0;
  #waiting: (() => void)[] = [];
  /** The most that ran at once (for tests and metrics). */
  peak = 0;

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#active >= this.limit) await new Promise<void>((r) => this.#waiting.push(r));
    this.#active++;
    this.peak = Math.max(this.peak, this.#active);
    try {
      return await task();
    } finally {
      this.#active--;
      this.#waiting.shift()?.();
    }
  }
}
