import { authorizedLine } from "../ssh/authorized_line.ts";
import { generateKeyPair } from "../ssh/key_store.ts";
import { fromOption } from "../ssh/source_ips.ts";
import type { TunnelTarget } from "../ssh/tunnel_targets.ts";

/** The gateway port inside every instance (one of the two tunnel targets). */
export const GATEWAY_PORT = 18789;

/** A fresh random gateway token (256 bits, hex). */
export function newGatewayToken(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(32)), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The control plane's key line for one instance (restricted to its tunnel targets and source IPs). */
export function authorizedKeysFile(publicKey: string, targets: readonly TunnelTarget[], sourceIps: string[]): string {
  return authorizedLine(publicKey, targets, fromOption(sourceIps)) + "\n";
}

/**
 * OpenClaw's configuration as the control plane manages it: a local gateway bound to loopback (only
 * an SSH tunnel reaches it) with token auth (forced by claworc-gateway's command line). Models and keys are merged in by `core/models`.
 */
export function openclawConfig(): string {
  return JSON.stringify({ gateway: { mode: "local", bind: "loopback", port: GATEWAY_PORT } }, null, 2) + "\n";
}

/**
 * Everything an instance gets at create or redeploy time, as files under /run/claworc (see
 * agent/rootfs/usr/local/bin/claworc-init). A new host key each time: its public half is pinned
 * before the first connection, so trust comes from the engine API, never from first use.
 */
export function agentFiles(opts: {
  name: string;
  gatewayToken: string;
  authorizedKeys: string;
  vncResolution: string;
  /** openclaw.json and the provider keys file, from the model configuration (`core/models`). */
  openclaw: Record<string, string>;
}): { files: Record<string, string>; hostPublicKey: string } {
  const hostKey = generateKeyPair(`${opts.name}-host`);
  return {
    hostPublicKey: hostKey.publicKey,
    files: {
      host_key: hostKey.privateKey,
      authorized_keys: opts.authorizedKeys,
      gateway_token: opts.gatewayToken,
      display: opts.vncResolution,
      ...opts.openclaw,
    },
  };
}
