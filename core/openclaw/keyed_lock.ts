/** Runs work one at a time per key (later callers wait for earlier ones, failures included). */
export class KeyedLock<K> {
  #tails = new Map<K, Promise<unknown>>();

  run<T>(key: K, work: () => Promise<T>): Promise<T> {
    const next = (this.#tails.get(key) ?? Promise.resolve()).catch(() => {}).then(work);
    this.#tails.set(key, next);
    next.finally(() => this.#tails.get(key) === next && this.#tails.delete(key)).catch(() => {});
    return next;
  }

  /** True while work for `key` runs or waits. */
  busy(key: K): boolean {
    return this.#tails.has(key);
  }
}
