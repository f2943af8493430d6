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

/** An instance the engine knows about (found by the backend's labels). */
export interface RuntimeInstance {
  name: string;
  /** The instance id the backend labelled it with. */
  instanceId: number;
  state: RuntimeState;
}

/** Live resource limits an admin changed. */
export interface RuntimeResources {
  cpuLimit: string;
  memoryLimit: string;
}

/**
 * The one interface every runtime backend implements (docker, kubernetes, ...). A backend is the only
 * code that talks to its engine; core's instance service drives whichever backend is configured.
 * Creation is split in two steps (volumes, then the workload) so progress is visible and a redeploy
 * can recreate the workload over the same volumes.
 */
export interface RuntimeBackend {
  /** Stable name shown in `/health` (`docker`, `kubernetes`). */
  readonly name: string;
  /** Where the engine is (socket path, API URL), for error messages. */
  readonly location?: string;
  /** True when the engine answers. */
  available(): Promise<boolean>;
  /** Whether the engine has this image locally (engines that pull on demand, like Kubernetes, leave it out). */
  hasImage?(ref: string): Promise<boolean>;
  /** Creates the instance's volumes; with `cloneFrom`, copies that instance's volumes into them. */
  createVolumes(spec: InstanceSpec, cloneFrom?: string): Promise<void>;
  /** Creates the container/workload over existing volumes and copies `spec.files` in. Not started. */
  createWorkload(spec: InstanceSpec): Promise<void>;
  /** Removes the container/workload only; volumes stay (redeploy). */
  removeWorkload(name: string): Promise<void>;
  start(name: string): Promise<void>;
  stop(name: string): Promise<void>;
  restart(name: string): Promise<void>;
  /** Removes everything the backend made for the instance, volumes included. */
  remove(name: string): Promise<void>;
  status(name: string): Promise<RuntimeState>;
  /** Every instance the backend manages, for reconciling the database with the engine. */
  list(): Promise<RuntimeInstance[]>;
  /**
   * Subscribes to status changes pushed by the engine; returns an unsubscribe function. `onResync` is
   * called after the stream was interrupted and re-established (events may have been missed).
   */
  watch?(onChange: (name: string, state: RuntimeState) => void, onResync?: () => void): () => void;
  sshEndpoint(name: string): Promise<SshEndpoint>;
  /** Container logs straight from the engine, for when SSH is down. */
  logs(name: string, tail: number): Promise<string>;
  /** Replaces files given at create time (e.g. the authorized key line after a rotation), before a start. */
  updateFiles?(name: string, files: Record<string, string>): Promise<void>;
  /** Applies new CPU/memory limits to the running instance. */
  updateResources?(name: string, resources: RuntimeResources): Promise<void>;
}
