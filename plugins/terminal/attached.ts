/**
 * The browser sockets attached to each session, so that closing a session (`DELETE .../sessions/:sid`)
 * ends them with 4004 and its reason rather than letting them see a shell that merely exited.
 */
export class AttachedSockets {
  #ends = new Map<string, Set<(reason: string) => void>>();

  /** Registers a socket's end function; returns the function that removes it. */
  add(instanceId: number, sessionId: string, end: (reason: string) => void): () => void {
    const key = `${instanceId}/${sessionId}`;
    const set = this.#ends.get(key) ?? new Set();
    this.#ends.set(key, set.add(end));
    return () => {
      set.delete(end);
      if (!set.size && this.#ends.get(key) === set) this.#ends.delete(key);
    };
  }

  /** Ends every socket attached to the session; returns how many there were. */
  end(instanceId: number, sessionId: string, reason: string): number {
    const ends = [...this.#ends.get(`${instanceId}/${sessionId}`) ?? []];
    for (const end of ends) end(reason);
    return ends.length;
  }
}
