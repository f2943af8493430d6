import type { Duplex } from "node:stream";
import { AppError } from "../errors.ts";
import type { SshEndpoint } from "../plugins/runtime_backend.ts";
import { blobToLine } from "./public_key.ts";
import { type Client, type ClientChannel, type ConnectConfig, loadSsh2, type SFTPWrapper } from "./ssh2.ts";
import { TcpSocket } from "./tcp_socket.ts";

/**
 * Cipher preference by measurement (environment.md): under Deno, chacha20-poly1305 moves 200–330 MB/s,
 * aes128-ctr ≈ 180 MB/s and aes128-gcm only 100–135 MB/s (Deno's AES-GCM is slow), so GCM comes last.
 */
export const CIPHERS = [
  "chacha20-poly1305@openssh.com",
  "aes128-ctr",
  "aes256-ctr",
  "aes128-gcm@openssh.com",
  "aes256-gcm@openssh.com",
] as ConnectConfig["algorithms"] extends infer A ? A extends { cipher?: infer C } ? C : never : never;

export interface ConnectOptions {
  endpoint: SshEndpoint;
  /** Private keys to try in order (the current one, then a previous one during a rotation). */
  privateKeys: string[];
  /** Decides on the presented host key (a `type base64` line); return false to refuse. */
  verifyHostKey: (presented: string) => boolean;
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  readyTimeoutMs: number;
  /** Checked once TCP connects, before any SSH traffic: false refuses (source-IP restrictions). */
  allowLocalAddress?: (address: string) => boolean;
}

/**
 * How long `close()` waits for the peer to close its side after the disconnect before closing the
 * socket outright: a hung peer (a paused container, a cut link) never does, and a half-closed socket
 * would stay in Deno's resource table for as long as it stays hung.
 */
export const CLOSE_GRACE_MS = 3_000;

/** Kinds of channel counted per connection: commands, streamed commands, PTYs (terminals), SFTP, tunnels. */
export type ChannelKind = "exec" | "stream" | "pty" | "sftp" | "tunnel";

export interface ExecOptions {
  timeoutMs?: number;
  maxOutput?: number;
  /** Written to the command's standard input, which is then closed. */
  input?: string;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: string | null;
}

/** Raised when the instance's host key is not the pinned one. */
export class HostKeyMismatchError extends Error {
  constructor(readonly presented: string) {
    super("The instance's SSH host key does not match the pinned key; refusing to connect.");
    this.name = "HostKeyMismatchError";
  }
}

/** Raised when this machine's source address is not one the instance accepts. */
export class SourceAddressRefusedError extends Error {
  constructor(readonly address: string) {
    super(`This control plane's address ${address} is not in the instance's allowed source IPs.`);
    this.name = "SourceAddressRefusedError";
  }
}

/** One authenticated SSH connection; every channel (exec, PTY, SFTP, direct-tcpip) multiplexes on it. */
export class SshConnection {
  #closed = false;
  #hangUp: ReturnType<typeof setTimeout> | undefined;
  #onClose = new Set<(reason: string) => void>();
  #open: Record<ChannelKind, number> = { exec: 0, stream: 0, pty: 0, sftp: 0, tunnel: 0 };

  private constructor(
    private readonly client: Client,
    readonly endpoint: SshEndpoint,
    /** The address this side of the connection uses (what sshd's `from=` sees). */
    readonly localAddress: string,
  ) {
    const closed = (reason: string) => {
      if (this.#closed) return;
      this.#closed = true;
      for (const cb of this.#onClose) cb(reason);
    };
    client.on("close", () => {
      clearTimeout(this.#hangUp);
      closed("connection closed");
    });
    client.on("error", (e) => closed(`connection error: ${e.message}`));
  }

  /** Connects and authenticates; rejects with HostKeyMismatchError or the transport's error. */
  static async connect(opts: ConnectOptions): Promise<SshConnection> {
    const { Client } = await loadSsh2();
    const sock = await TcpSocket.connect(opts.endpoint.host, opts.endpoint.port, { timeoutMs: opts.readyTimeoutMs });
    return await new Promise((resolve, reject) => {
      const client = new Client();
      let refusal: Error | undefined;
      // ssh2 keeps its TCP socket private; we need it for TCP_NODELAY and the local address.
      const socket = () =>
        (client as unknown as { _sock?: { setNoDelay?(on: boolean): void; localAddress?: string } })._sock;
      const fail = (e: Error) => {
        // Late socket errors (a reset after we hung up) must not become uncaught exceptions.
        client.removeListener("error", fail);
        client.on("error", () => {});
        client.end();
        reject(refusal ?? e);
      };
      client.on("error", fail);
      const closedEarly = () => fail(new Error("connection closed during the handshake"));
      client.once("close", closedEarly);
      client.once("connect", () => {
        const address = socket()?.localAddress ?? "";
        if (opts.allowLocalAddress && !opts.allowLocalAddress(address)) {
          refusal = new SourceAddressRefusedError(address);
          client.end();
        }
      });
      client.once("ready", () => {
        client.removeListener("error", fail);
        client.removeListener("close", closedEarly);
        socket()?.setNoDelay?.(true);
        resolve(new SshConnection(client, opts.endpoint, socket()?.localAddress ?? ""));
      });
      client.connect({
        sock,
        username: opts.endpoint.username,
        authHandler: opts.privateKeys.map((key) => ({
          type: "publickey" as const,
          username: opts.endpoint.username,
          key,
        })),
        readyTimeout: opts.readyTimeoutMs,
        keepaliveInterval: opts.keepaliveIntervalMs,
        keepaliveCountMax: opts.keepaliveCountMax,
        algorithms: { cipher: CIPHERS },
        hostVerifier: (key: Buffer) => {
          const line = blobToLine(key);
          if (opts.verifyHostKey(line)) return true;
          refusal = new HostKeyMismatchError(line);
          return false;
        },
      });
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Channels open now, by kind (for `/metrics`). */
  openChannels(): Readonly<Record<ChannelKind, number>> {
    return this.#open;
  }

  /**
   * Counts `channel` as open until it closes; returns it. ssh2 emits "close" only once the channel's
   * readable side has ended, which takes a reader: a channel that its user closes and no longer reads
   * (a cancelled stream) would never emit it, and would keep its count and what it had buffered. So
   * closing a channel also lets its remaining output flow out, unread.
   */
  #track<T extends { once(event: "close", cb: () => void): unknown }>(kind: ChannelKind, channel: T): T {
    this.#open[kind]++;
    channel.once("close", () => this.#open[kind]--);
    const c = channel as unknown as { close?: (...args: unknown[]) => unknown; resume?: () => unknown };
    const close = c.close, resume = c.resume;
    if (typeof close === "function" && typeof resume === "function") {
      c.close = function (this: unknown, ...args: unknown[]) {
        resume.call(channel);
        return close.apply(this, args);
      };
    }
    return channel;
  }

  /** Calls `cb` once when the connection ends, with a reason. */
  onClose(cb: (reason: string) => void): void {
    this.#onClose.add(cb);
  }

  /**
   * Runs a command; output beyond `maxOutput` bytes (per stream) is an error, as is exceeding
   * `timeoutMs`. `input` is written to its standard input (then closed), so content such as a secret
   * never appears in a command line.
   */
  exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const { timeoutMs = 30_000, maxOutput = 1 << 20 } = opts;
    return new Promise((resolve, reject) => {
      // The time limit covers opening the channel too: a hung peer may never answer that.
      let stream: ClientChannel | undefined;
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        stream?.close();
        reject(new AppError("SSH_TIMEOUT", `Command timed out after ${timeoutMs} ms.`));
      }, timeoutMs);
      this.client.exec(command, (err, opened) => {
        if (err) {
          clearTimeout(timer);
          return reject(unavailable(err));
        }
        const ch = stream = this.#track("exec", opened);
        if (timedOut) return void ch.close(); // opened after its caller gave up
        const out: Buffer[] = [];
        const errs: Buffer[] = [];
        let size = 0;
        const collect = (into: Buffer[]) => (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxOutput) {
            clearTimeout(timer);
            ch.close();
            reject(new AppError("SSH_OUTPUT_TOO_LARGE", `Command output exceeded ${maxOutput} bytes.`));
            return;
          }
          into.push(chunk);
        };
        ch.on("data", collect(out));
        ch.stderr.on("data", collect(errs));
        if (opts.input !== undefined) ch.end(opts.input);
        ch.on("close", (code: number | null, signal: string | null) => {
          clearTimeout(timer);
          resolve({
            stdout: Buffer.concat(out).toString(),
            stderr: Buffer.concat(errs).toString(),
            code: code ?? null,
            signal: signal ?? null,
          });
        });
      });
    });
  }

  /**
   * A command whose output is read as it comes (`tail -F`, a terminal), optionally on a PTY: the
   * channel itself, for the caller to read, write, signal and close.
   */
  execStream(command: string, pty?: { term?: string; cols: number; rows: number }): Promise<ClientChannel> {
    if (this.#closed) return Promise.reject(new AppError("SSH_UNAVAILABLE", "The SSH connection is not open."));
    return new Promise((resolve, reject) => {
      const opened = (err: Error | undefined, channel: ClientChannel) => {
        if (err) return reject(unavailable(err));
        channel.on("error", () => {}); // a channel torn down with its connection must not throw
        resolve(this.#track(pty ? "pty" : "stream", channel));
      };
      try {
        if (pty) {
          this.client.exec(
            command,
            { pty: { term: pty.term ?? "xterm-256color", cols: pty.cols, rows: pty.rows } },
            opened,
          );
        } else this.client.exec(command, opened);
      } catch (e) {
        reject(unavailable(e as Error));
      }
    });
  }

  /** An interactive shell on a PTY. */
  shell(opts: { term?: string; cols?: number; rows?: number } = {}): Promise<ClientChannel> {
    return new Promise((resolve, reject) =>
      this.client.shell(
        { term: opts.term ?? "xterm-256color", cols: opts.cols ?? 80, rows: opts.rows ?? 24 },
        (err, ch) => err ? reject(unavailable(err)) : resolve(this.#track("pty", ch)),
      )
    );
  }

  sftp(): Promise<SFTPWrapper> {
    return new Promise((resolve, reject) =>
      this.client.sftp((err, sftp) => err ? reject(unavailable(err)) : resolve(this.#track("sftp", sftp)))
    );
  }

  /** A direct-tcpip channel to `host:port` inside the instance (a duplex byte stream). */
  forward(host: string, port: number): Promise<ClientChannel & Duplex> {
    return new Promise((resolve, reject) =>
      this.client.forwardOut(
        "127.0.0.1",
        0,
        host,
        port,
        (err, ch) => err ? reject(unavailable(err)) : resolve(this.#track("tunnel", ch as ClientChannel & Duplex)),
      )
    );
  }

  /** Disconnects politely; a peer that has not closed its side after `CLOSE_GRACE_MS` is hung up on. */
  close(): void {
    this.client.end();
    // ssh2's destroy() does nothing once the socket has ended: the socket itself is destroyed.
    const sock = (this.client as unknown as { _sock?: { destroyed: boolean; destroy(): void } })._sock;
    if (!sock || sock.destroyed || this.#hangUp !== undefined) return;
    this.#hangUp = setTimeout(() => sock.destroy(), CLOSE_GRACE_MS);
    Deno.unrefTimer(this.#hangUp); // a hung peer does not hold up the process's exit
  }
}

function unavailable(err: Error): AppError {
  return new AppError("SSH_UNAVAILABLE", `SSH channel failed: ${err.message}`);
}
