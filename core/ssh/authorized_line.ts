import type { TunnelTarget } from "./tunnel_targets.ts";

/**
 * The authorized_keys line installed in an instance: `restrict` turns off everything, then only a PTY
 * and forwarding to exactly the instance's tunnel targets are allowed back; `from=` pins the sources
 * when the instance has source-IP restrictions.
 */
export function authorizedLine(
  publicKey: string,
  targets: readonly TunnelTarget[],
  from: string | null = null,
): string {
  const options = ["restrict", "pty", "port-forwarding", ...targets.map((t) => `permitopen="${t.host}:${t.port}"`)];
  if (from) options.push(`from="${from}"`);
  return `${options.join(",")} ${publicKey.trim()}`;
}
