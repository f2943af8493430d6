/** The last `size` samples of a measurement, for quantiles at scrape time (fixed memory, O(1) add). */
export class SampleWindow {
  #samples: Float64Array;
  #next = 0;
  #count = 0;

  constructor(size: number) {
    this.#samples = new Float64Array(size);
  }

  add(value: number): void {
    this.#samples[this.#next] = value;
    this.#next = (this.#next + 1) % this.#samples.length;
    this.#count = Math.min(this.#count + 1, this.#samples.length);
  }

  get count(): number {
    return this.#count;
  }

  /** The q-quantile (0..1) of the samples held, nearest rank; 0 when empty. */
  quantile(q: number): number {
    if (this.#count === 0) return 0;
    const sorted = this.#samples.slice(0, this.#count).sort();
    return sorted[Math.min(this.#count - 1, Math.max(0, Math.ceil(q * this.#count) - 1))];
  }

  max(): number {
    return this.#count === 0 ? 0 : Math.max(...this.#samples.subarray(0, this.#count));
  }
}
