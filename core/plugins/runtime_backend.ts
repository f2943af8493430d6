/** Resources and image an instance is created with. */
export interface InstanceSpec {
  id: number;
  name: string;
  image: string;
  cpuRequest: string;
  cpuLimit: string;
  memoryRequest: string;
  memoryLimit: string;
  /** Files the backend mounts read-only into the instance (authorized key line, host key, gateway token...). */
  files: Record<string, string>;
  /** Volume name suffix → size, e.g. `{ home: "10Gi" }`. */
  volumes: Record<string, string>;
}

/** What a backend says about an instance. */
export type RuntimeStatus = "creating" | "running" | "stopped" | "restarting" | "error" | "missing";

export interface RuntimeState {
  status: RuntimeStatus;
  /** Human-readable reason (e.g. "ImagePullBackOff", "exited with code 1"). */
  reason?: string;
}

/** Where the control plane reaches an instance's sshd. */
export interface SshEndpoint {
  host: string;
  port: number;
  username: string;
  /** The pinned host key (OpenSSH public key line), when the backend knows it. */
  hostKey?: string;
  /**
   * The authorized_keys file the login user may rewrite (key rotation edits it over SSH). Relative
   * paths are from the login user's home. Default `.ssh/authorized_keys`.
   */
  authorizedKeysFile?: string;
}

/**
 * The one interface every runtime backend implements (docker, kubernetes, ...). A backend is the only
 * code that talks to its engine; core's instance service drives whichever backend is configured.
 */
export interface RuntimeBackend {
  /** Stable name shown in `/health` (`docker`, `kubernetes`). */
  readonly name: string;
  /** True when the engine answers. */
  available(): Promise<boolean>;
  create(spec: InstanceSpec): Promise<void>;
  start(name: string): Promise<void>;
  stop(name: string): Promise<void>;
  restart(name: string): Promise<void>;
  /** Removes everything the backend made for the instance, volumes included. */
  remove(name: string): Promise<void>;
  status(name: string): Promise<RuntimeState>;
  /** Subscribes to status changes pushed by the engine; returns an unsubscribe function. */
  watch?(onChange: (name: string, state: RuntimeState) => void): () => void;
  sshEndpoint(name: string): Promise<SshEndpoint>;
  /** Container logs straight from the engine, for when SSH is down. */
  logs(name: string, tail: number): Promise<string>;
  /** Replaces files given at create time (e.g. the authorized key line after a rotation), before a start. */
  updateFiles?(name: string, files: Record<string, string>): Promise<void>;
  exec?(name: string, argv: string[]): Promise<{ stdout: string; stderr: string; exitCode: number }>;
  cloneVolumes?(source: string, target: string): Promise<void>;
}
