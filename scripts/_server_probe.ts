/** Helpers for starting a real server process and waiting for it (used by the bench and e2e tests). */

/** A free TCP port on loopback. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Polls `url` until it answers 200; returns the ms elapsed since `started` (a `performance.now()`). */
export async function waitFor200(url: string, started: number, timeoutMs = 60_000): Promise<number> {
  while (performance.now() - started < timeoutMs) {
    try {
      const res = await fetch(url);
      await res.body?.cancel();
      if (res.status === 200) return performance.now() - started;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
}
