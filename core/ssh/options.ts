/** Timings of the SSH layer; defaults from the design (reference §4), all overridable (tests shrink them). */
export interface SshOptions {
  /** SSH-level keepalive (`keepalive@openssh.com`) interval and how many may go unanswered. */
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  /** Time allowed for TCP + handshake + authentication. */
  readyTimeoutMs: number;
  /** Command probe (`echo ping`) on every connection. */
  probeIntervalMs: number;
  probeTimeoutMs: number;
  /** End-to-end probe of each named tunnel target. */
  tunnelProbeIntervalMs: number;
  tunnelProbeTimeoutMs: number;
  /** Delays between reconnect attempts (the last one repeats) and how many attempts before `failed`. */
  reconnectDelaysMs: number[];
  reconnectAttempts: number;
  /** After `failed`: keep retrying, starting here and doubling up to the max. */
  slowRetryMs: number;
  slowRetryMaxMs: number;
}

export const sshDefaults: SshOptions = {
  keepaliveIntervalMs: 30_000,
  keepaliveCountMax: 3,
  readyTimeoutMs: 20_000,
  probeIntervalMs: 30_000,
  probeTimeoutMs: 5_000,
  tunnelProbeIntervalMs: 60_000,
  tunnelProbeTimeoutMs: 5_000,
  reconnectDelaysMs: [1_000, 2_000, 4_000, 8_000, 16_000],
  reconnectAttempts: 10,
  slowRetryMs: 5_000,
  slowRetryMaxMs: 300_000,
};
