import { AppError } from "../errors.ts";
import type { SshEndpoint } from "../plugins/runtime_backend.ts";

/**
 * Waits until `endpoint` answers with an SSH banner (polling every 100 ms), so a freshly started
 * instance is connected to once, when sshd is up, instead of after a burst of failed attempts that
 * would trip the rate limiter. The endpoint is asked again on every try: a backend may know the
 * address only once the instance is scheduled (a Kubernetes pod), answering SSH_UNAVAILABLE until then.
 * Resolves with the elapsed ms; rejects after `timeoutMs`, or at once on any other endpoint error.
 */
export async function waitForSshd(endpoint: () => Promise<SshEndpoint>, timeoutMs: number): Promise<number> {
  const started = performance.now();
  let last = "";
  while (performance.now() - started < timeoutMs) {
    try {
      const { host, port } = await endpoint();
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
      if (e instanceof AppError && e.code !== "SSH_UNAVAILABLE") throw e;
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`sshd did not answer within ${timeoutMs} ms${last ? ` (${last})` : ""}`);
}
