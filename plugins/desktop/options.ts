/** Options of the desktop plugin (every field has a default in `desktopDefaults`). */
export interface DesktopOptions {
  /** The tunnel target (`core/ssh/tunnel_targets.ts`) websockify listens behind. */
  tunnel: string;
  /** The Host header websockify gets (the target as the instance sees it). */
  host: string;
  /** The WebSocket path asked of websockify (it upgrades any path). */
  path: string;
  /** Bytes waiting in the browser's socket before the SSH channel is paused. */
  outputHighWater: number;
  /** Bytes waiting below which the SSH channel is resumed. */
  outputLowWater: number;
  /** Browser bytes waiting for the SSH channel beyond which the socket is closed (1009). */
  inputMaxBuffered: number;
  /** Largest WebSocket message accepted from websockify. */
  maxMessageBytes: number;
  /** How long websockify may take to answer the WebSocket handshake. */
  handshakeTimeoutMs: number;
  /** The session and access are re-checked this often while a desktop socket is open. */
  recheckMs: number;
}

export const desktopDefaults = {
  tunnel: "desktop",
  host: "127.0.0.1:3000",
  path: "/websockify",
  outputHighWater: 2 << 20,
  outputLowWater: 512 << 10,
  inputMaxBuffered: 4 << 20,
  maxMessageBytes: 32 << 20,
  handshakeTimeoutMs: 15_000,
  recheckMs: 30_000,
} satisfies DesktopOptions;
