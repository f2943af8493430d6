/**
 * The long-lived connections (WebSockets, streams) a plugin has open in this process: counted for
 * `/metrics`, and ended together when the plugin closes at shutdown (clients reconnect when the server
 * is back).
 */
export class OpenConnections {
  #ends = new Set<() => void>();

  get size(): number {
    return this.#ends.size;
  }

  /** Adds a connection's end function; returns the function that removes it. */
  add(end: () => void): () => void {
    this.#ends.add(end);
    return () => this.#ends.delete(end);
  }

  endAll(): void {
    for (const end of [...this.#ends]) end();
  }
}
