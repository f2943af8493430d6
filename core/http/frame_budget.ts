/**
 * Counts a socket's incoming frames in windows of one second: the returned function answers false once
 * more than `max` arrived in the current window (the caller then closes the socket, 1009).
 */
export function frameBudget(max: number, now: () => number = () => performance.now()): () => boolean {
  let start = -Infinity;
  let count = 0;
  return () => {
    const t = now();
    if (t - start >= 1000) [start, count] = [t, 0];
    return ++count <= max;
  };
}
