import type { SshConnection } from "./connection.ts";
import type { TunnelTarget } from "./tunnel_targets.ts";

/**
 * Probes a target end to end: opens a direct-tcpip channel on the live connection (so sshd really
 * reached the target) and, when the target has a banner, waits for it.
 */
export async function probeTunnel(
  conn: SshConnection,
  target: TunnelTarget,
  timeoutMs: number,
): Promise<{ ok: boolean; latencyMs: number; error?: string }> {
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) =>
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)
  );
  try {
    const channel = await Promise.race([conn.forward(target.host, target.port), timeout]);
    try {
      if (target.banner) {
        const first = await Promise.race([
          new Promise<string>((resolve, reject) => {
            channel.once("data", (d: Buffer) => resolve(d.toString("latin1")));
            channel.once("close", () => reject(new Error("closed before its banner")));
          }),
          timeout,
        ]);
        if (!target.banner.test(first)) throw new Error(`unexpected banner ${JSON.stringify(first.slice(0, 32))}`);
      }
    } finally {
      channel.close();
    }
    return { ok: true, latencyMs: performance.now() - started };
  } catch (e) {
    return { ok: false, latencyMs: performance.now() - started, error: (e as Error).message };
  } finally {
    clearTimeout(timer);
  }
}
