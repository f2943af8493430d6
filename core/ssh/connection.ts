import type { Duplex } from "node:stream";
import { AppError } from "../errors.ts";
import type { SshEndpoint } from "../plugins/runtime_backend.ts";
import { blobToLine } from "./public_key.ts";
import { Client, type ClientChannel, type ConnectConfig, type SFTPWrapper } from "./ssh2.ts";

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
  localAddress?: string;
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

/** One authenticated SSH connection; every channel (exec, PTY, SFTP, direct-tcpip) multiplexes on it. */
export class SshConnection {
  readonly connectedAt = Date.now();
  #closed = false;
  #onClose = new Set<(reason: string) => void>();

  private constructor(private readonly client: Client, readonly endpoint: SshEndpoint) {
    const closed = (reason: string) => {
      if (this.#closed) return;
      this.#closed = true;
      for (const cb of this.#onClose) cb(reason);
    };
    client.on("close", () => closed("connection closed"));
    client.on("error", (e) => closed(`connection error: ${e.message}`));
  }

  /** Connects and authenticates; rejects with HostKeyMismatchError or the transport's error. */
  static connect(opts: ConnectOptions): Promise<SshConnection> {
    return new Promise((resolve, reject) => {
      const client = new Client();
      let mismatch: HostKeyMismatchError | undefined;
      const fail = (e: Error) => {
        client.removeAllListeners("ready");
        client.end();
        reject(mismatch ?? e);
      };
      client.once("error", fail);
      client.once("ready", () => {
        client.removeListener("error", fail);
        // deno-lint-ignore no-explicit-any
        const sock = (client as any)._sock as { setNoDelay?: (on: boolean) => void } | undefined;
        sock?.setNoDelay?.(true);
        resolve(new SshConnection(client, opts.endpoint));
      });
      client.connect({
        host: opts.endpoint.host,
        port: opts.endpoint.port,
        username: opts.endpoint.username,
        authHandler: opts.privateKeys.map((key) => ({
          type: "publickey" as const,
          username: opts.endpoint.username,
          key,
        })),
        localAddress: opts.localAddress,
        readyTimeout: opts.readyTimeoutMs,
        keepaliveInterval: opts.keepaliveIntervalMs,
        keepaliveCountMax: opts.keepaliveCountMax,
        algorithms: { cipher: CIPHERS },
        hostVerifier: (key: Buffer) => {
          const line = blobToLine(key);
          if (opts.verifyHostKey(line)) return true;
          mismatch = new HostKeyMismatchError(line);
          return false;
        },
      });
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Calls `cb` once when the connection ends, with a reason. */
  onClose(cb: (reason: string) => void): void {
    this.#onClose.add(cb);
  }

  /** Runs a command; output beyond `maxOutput` bytes (per stream) is an error, as is exceeding `timeoutMs`. */
  exec(command: string, opts: { timeoutMs?: number; maxOutput?: number } = {}): Promise<ExecResult> {
    const { timeoutMs = 30_000, maxOutput = 1 << 20 } = opts;
    return new Promise((resolve, reject) => {
      this.client.exec(command, (err, stream) => {
        if (err) return reject(unavailable(err));
        const out: Buffer[] = [];
        const errs: Buffer[] = [];
        let size = 0;
        const timer = setTimeout(() => {
          stream.close();
          reject(new AppError("SSH_TIMEOUT", `Command timed out after ${timeoutMs} ms.`));
        }, timeoutMs);
        const collect = (into: Buffer[]) => (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxOutput) {
            clearTimeout(timer);
            stream.close();
            reject(new AppError("SSH_OUTPUT_TOO_LARGE", `Command output exceeded ${maxOutput} bytes.`));
            return;
          }
          into.push(chunk);
        };
        stream.on("data", collect(out));
        stream.stderr.on("data", collect(errs));
        stream.on("close", (code: number | null, signal: string | null) => {
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

  /** An interactive shell on a PTY. */
  shell(opts: { term?: string; cols?: number; rows?: number } = {}): Promise<ClientChannel> {
    return new Promise((resolve, reject) =>
      this.client.shell(
        { term: opts.term ?? "xterm-256color", cols: opts.cols ?? 80, rows: opts.rows ?? 24 },
        (err, ch) => err ? reject(unavailable(err)) : resolve(ch),
      )
    );
  }

  sftp(): Promise<SFTPWrapper> {
    return new Promise((resolve, reject) =>
      this.client.sftp((err, sftp) => err ? reject(unavailable(err)) : resolve(sftp))
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
        (err, ch) => err ? reject(unavailable(err)) : resolve(ch as ClientChannel & Duplex),
      )
    );
  }

  close(): void {
    this.client.end();
  }
}

function unavailable(err: Error): AppError {
  return new AppError("SSH_UNAVAILABLE", `SSH channel failed: ${err.message}`);
}
