/** A tiny in-process publish/subscribe bus; a throwing listener never breaks the publisher. */
export class EventBus<T> {
  #listeners = new Set<(event: T) => void>();

  publish(event: T): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch { /* a listener's failure is its own */ }
    }
  }

  /** Returns the unsubscribe function. */
  subscribe(listener: (event: T) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get size(): number {
    return this.#listeners.size;
  }
}
