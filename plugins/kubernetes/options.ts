/** Options of the Kubernetes runtime backend (from `CLAWORC_KUBE_*` variables, or given by tests). */
export interface KubernetesOptions {
  /** Where instances live; it must exist (the control plane never creates namespaces). */
  namespace: string;
  /** A kubeconfig file; empty: in-cluster service account, else `KUBECONFIG`/`~/.kube/config`. */
  kubeconfig: string;
  /** A context of that kubeconfig; empty: its current context. */
  context: string;
  /** Labels of the control plane's pods: the only ones each instance's NetworkPolicy lets reach port 22. */
  controlPlaneLabels: Record<string, string>;
  /** Size of each instance's home volume. */
  homeSize: string;
  /** StorageClass of the home volume; empty: the cluster's default. */
  storageClass: string;
  nodeSelector: Record<string, string>;
  tolerations: { key?: string; operator?: string; value?: string; effect?: string; tolerationSeconds?: number }[];
  /** A docker-registry Secret in the namespace for pulling the agent image; empty: none. */
  imagePullSecret: string;
  /** Capabilities kept (sshd and supervisord's user switching); everything else is dropped. */
  capabilities: string[];
  /** How long a clone's copy pod may run. */
  copyTimeoutMs: number;
}

export const kubernetesDefaults: KubernetesOptions = {
  namespace: "claworc",
  kubeconfig: "",
  context: "",
  controlPlaneLabels: { "app.kubernetes.io/name": "claworc" },
  homeSize: "10Gi",
  storageClass: "",
  nodeSelector: {},
  tolerations: [],
  imagePullSecret: "",
  capabilities: ["CHOWN", "SETUID", "SETGID", "SYS_CHROOT", "NET_BIND_SERVICE", "KILL", "FOWNER", "DAC_OVERRIDE"],
  copyTimeoutMs: 30 * 60_000,
};
