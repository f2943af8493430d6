/** A named destination inside an instance, reached through a direct-tcpip channel. */
export interface TunnelTarget {
  name: string;
  host: string;
  port: number;
  /** What a healthy target says first, for the end-to-end probe (e.g. the RFB banner). */
  banner?: RegExp;
}

/** The agent's two local services; the installed key may forward to these and nothing else. */
export const TUNNEL_TARGETS: readonly TunnelTarget[] = [
  // websockify speaks HTTP first, so no banner; opening the channel proves sshd reached the port.
  { name: "desktop", host: "127.0.0.1", port: 3000 },
  { name: "gateway", host: "127.0.0.1", port: 18789 },
];
