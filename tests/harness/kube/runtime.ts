/**
 * What the kubelet part of the double needs from a container engine. Two engines implement it:
 * {@link PodmanRuntime} (real containers) and {@link SimulatedRuntime} (no engine: containers "run"
 * at once on loopback addresses, for API-level tests).
 */

/** A file copied into a container before it starts (secret volumes). */
export interface FileEntry {
  /** Absolute path in the container. */
  path: string;
  content: Uint8Array;
  mode: number;
  uid: number;
  gid: number;
}

export type MountSpec =
  | { kind: "volume"; volume: string; path: string; readOnly: boolean }
  | { kind: "tmpfs"; path: string; sizeBytes?: number };

/** A container to create, with everything already resolved from the pod spec. */
export interface ContainerSpec {
  /** Engine-side name (unique per double). */
  key: string;
  image: string;
  /** Replaces the image's ENTRYPOINT (Kubernetes `command`); the image's CMD is then dropped unless `args` is set. */
  entrypoint?: string[];
  /** Replaces the image's CMD (Kubernetes `args`). */
  cmd?: string[];
  env: string[];
  workingDir?: string;
  /** `uid[:gid]`. */
  user?: string;
  groupAdd: string[];
  hostname: string;
  capAdd: string[];
  capDrop: string[];
  privileged: boolean;
  readOnlyRootfs: boolean;
  noNewPrivileges: boolean;
  memoryBytes?: number;
  nanoCpus?: number;
  mounts: MountSpec[];
  /** Join this container's network namespace (the pod's first app container) instead of the double's network. */
  joinNetworkOf?: string;
  labels: Record<string, string>;
}

export interface ContainerObservation {
  exists: boolean;
  running: boolean;
  /** Docker-style state: created, running, exited... */
  state?: string;
  exitCode?: number;
  oomKilled?: boolean;
  startedAt?: string;
  finishedAt?: string;
  ip?: string;
  id?: string;
}

export interface ImageInfo {
  id: string;
  /** The image's configured user ("" = root). */
  user: string;
}

export interface PodRuntime {
  readonly kind: "podman" | "simulated";
  init(): Promise<void>;
  image(ref: string): Promise<ImageInfo | null>;
  /** Creates a named volume if missing; returns whether it was created now. */
  ensureVolume(name: string, labels: Record<string, string>): Promise<boolean>;
  volumeExists(name: string): Promise<boolean>;
  removeVolume(name: string): Promise<void>;
  /**
   * Prepares a volume for a pod: `rootMode` sets its root directory's mode (emptyDir: 0777), `fsGroup`
   * gives it (and its content) the group ownership the kubelet applies.
   */
  prepareVolume(volume: string, opts: { fsGroup?: number; readOnly: boolean; rootMode?: number }): Promise<void>;
  createContainer(spec: ContainerSpec): Promise<void>;
  copyFiles(key: string, files: FileEntry[]): Promise<void>;
  start(key: string): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceSeconds`; then removes the container and its anonymous volumes. */
  remove(key: string, graceSeconds: number): Promise<void>;
  inspect(key: string): Promise<ContainerObservation>;
  logs(key: string, tailLines?: number): Promise<string>;
  /** Runs a command in a running container; resolves to its exit code. */
  exec(key: string, cmd: string[], timeoutMs: number): Promise<number>;
  /** Whether a TCP connection to ip:port succeeds (tcpSocket probes). */
  tcpProbe(ip: string, port: number, timeoutMs: number): Promise<boolean>;
  /** Keys of every container this double made (for orphan cleanup). */
  containers(): Promise<string[]>;
  /** Names of every volume this double made. */
  volumes(): Promise<string[]>;
  /** Removes every container, volume and network it made. */
  close(): Promise<void>;
}
