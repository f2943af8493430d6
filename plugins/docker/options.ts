/** Options of the Docker runtime backend. */
export interface DockerBackendOptions {
  /** The engine's unix socket (Docker or Podman's Docker-compatible service). */
  socketPath: string;
  /** Prefix of each instance's own network (`<prefix>-<instance name>`). */
  network: string;
  /**
   * Capabilities kept: sshd and supervisord's user switching, plus NET_ADMIN and SETPCAP that the
   * agent's init uses once (its egress filter) and then drops from its bounding set before any
   * service starts. Everything else is dropped.
   */
  capabilities: string[];
  /**
   * IPv4 pool every instance network is carved from (one `/subnetPrefix` block each). Each instance
   * refuses to send anything into the pool outside its own block, so instances cannot reach one
   * another even when the engine's own isolation fails.
   */
  subnetPool: string;
  subnetPrefix: number;
  /**
   * Name or id of the control plane's own container, when it runs in one on the same engine
   * (`CLAWORC_DOCKER_ATTACH_CONTAINER`): it is connected to each instance network so it can reach the
   * instance's sshd. Empty: off (the control plane runs on the engine's host and reaches every bridge).
   */
  attachContainer: string;
  pidsLimit: number;
  shmSizeBytes: number;
}

export const dockerDefaults: DockerBackendOptions = {
  socketPath: "/var/run/docker.sock",
  network: "claworc",
  capabilities: [
    "CHOWN",
    "SETUID",
    "SETGID",
    "SYS_CHROOT",
    "NET_BIND_SERVICE",
    "KILL",
    "FOWNER",
    "DAC_OVERRIDE",
    "NET_ADMIN",
    "SETPCAP",
  ],
  pidsLimit: 4096,
  shmSizeBytes: 512 * 1024 * 1024,
  subnetPool: "10.213.0.0/16",
  subnetPrefix: 26,
  attachContainer: "",
};
