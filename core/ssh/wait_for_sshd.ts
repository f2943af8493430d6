import type { SshEndpoint } from "../plugins/runtime_backend.ts";

/**
 * Waits until `endpoint` answers with an SSH banner (polling every 100 ms), so a freshly started
 * instance is connected to once, when sshd is up, instead of after a burst of failed attempts that
 * would trip the rate limiter. Resolves with the elapsed ms; rejects after `timeoutMs`, or at once
 * when the endpoint itself cannot be found.
 */
export async function waitForSshd(endpoint: () => Promise<SshEndpoint>, timeoutMs: number): Promise<number> {
  const started = performance.now();
  let last = "";
  // Asked once: an engine that cannot say where the instance is fails the wait at once.
  const { host, port } = await endpoint();
  while (performance.now() - started < timeoutMs) {
    try {
      const conn = await Deno.connect({ hostname: host, port });
      try {
        const buf = new Uint8Array(64);
        const timer = setTimeout(() => conn.close(), 2_000);
        const n = await conn.read(buf);
        clearTimeout(timer);
        if (n && new TextDecoder().decode(buf.subarray(0, n)).startsWith("SSH-")) return performance.now() - started;
      } finally {
        try {
          conn.close();
        } catch { /* closed by the timer */ }
      }
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`sshd did not answer within ${timeoutMs} ms${last ? ` (${last})` : ""}`);
}
