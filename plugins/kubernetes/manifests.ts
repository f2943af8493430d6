import type { InstanceSpec } from "../../core/mod.ts";
import type { KubernetesOptions } from "./options.ts";

export const MANAGED_BY = "app.kubernetes.io/managed-by";
export const MANAGED = "claworc";
export const INSTANCE_LABEL = "claworc.io/instance";
export const ID_LABEL = "claworc.io/instance-id";
/** Where the agent reads what the control plane gives it (agent/rootfs/usr/local/bin/claworc-init). */
export const SECRETS_DIR = "/run/claworc";
/** Same mount paths as the docker backend: one home volume (workspace, OpenClaw state, browser profile). */
export const VOLUME_PATHS: Record<string, string> = { home: "/home/agent" };
export const RESTARTED_AT = "kubectl.kubernetes.io/restartedAt";
/** The agent user's group in the agent image. */
const AGENT_GID = 1000;

type Obj = Record<string, unknown>;

/** The labels every object made for an instance carries. */
export function labelsOf(spec: Pick<InstanceSpec, "id" | "name">): Record<string, string> {
  return { [MANAGED_BY]: MANAGED, [INSTANCE_LABEL]: spec.name, [ID_LABEL]: String(spec.id) };
}

export const selectorOf = (name: string) => ({ [MANAGED_BY]: MANAGED, [INSTANCE_LABEL]: name });
export const secretName = (name: string) => `${name}-files`;
export const pvcName = (name: string, suffix: string) => `claworc-${name}-${suffix}`;

function meta(name: string, spec: Pick<InstanceSpec, "id" | "name">): Obj {
  return { name, labels: labelsOf(spec) };
}

/** One PersistentVolumeClaim per volume of the spec (ReadWriteOnce). */
export function pvcManifest(spec: InstanceSpec, suffix: string, o: KubernetesOptions): Obj {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: meta(pvcName(spec.name, suffix), spec),
    spec: {
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: spec.volumes[suffix] || o.homeSize } },
      ...(o.storageClass ? { storageClassName: o.storageClass } : {}),
    },
  };
}

/** The files the agent gets (key line, host key, gateway token, OpenClaw config...), never env vars. */
export function secretManifest(spec: InstanceSpec): Obj {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: meta(secretName(spec.name), spec),
    type: "Opaque",
    stringData: spec.files,
  };
}

/**
 * One replica, `Recreate` (a home volume is ReadWriteOnce), created with 0 replicas (start scales it
 * to 1). Hardened: no privilege escalation, seccomp RuntimeDefault, every capability dropped except
 * what sshd and supervisord need, no service account token.
 */
export function deploymentManifest(spec: InstanceSpec, o: KubernetesOptions): Obj {
  const volumes = [
    { name: "files", secret: { secretName: secretName(spec.name), defaultMode: 0o400 } },
    ...Object.keys(spec.volumes).map((suffix) => ({
      name: suffix,
      persistentVolumeClaim: { claimName: pvcName(spec.name, suffix) },
    })),
    { name: "shm", emptyDir: { medium: "Memory", sizeLimit: "512Mi" } },
  ];
  const mounts = [
    { name: "files", mountPath: SECRETS_DIR, readOnly: true },
    ...Object.keys(spec.volumes).map((suffix) => ({
      name: suffix,
      mountPath: VOLUME_PATHS[suffix] ?? `/data/${suffix}`,
    })),
    { name: "shm", mountPath: "/dev/shm" },
  ];
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: meta(spec.name, spec),
    spec: {
      replicas: 0,
      strategy: { type: "Recreate" },
      selector: { matchLabels: selectorOf(spec.name) },
      template: {
        metadata: { labels: labelsOf(spec) },
        spec: {
          // A stable host name: OpenClaw ties its state leases to it, so a redeploy can take them over.
          hostname: spec.name,
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          // A new claim is root's: group 1000 (the agent's) gets it writable, as a Docker volume is.
          securityContext: {
            seccompProfile: { type: "RuntimeDefault" },
            fsGroup: AGENT_GID,
            fsGroupChangePolicy: "OnRootMismatch",
          },
          ...(Object.keys(o.nodeSelector).length ? { nodeSelector: o.nodeSelector } : {}),
          ...(o.tolerations.length ? { tolerations: o.tolerations } : {}),
          ...(o.imagePullSecret ? { imagePullSecrets: [{ name: o.imagePullSecret }] } : {}),
          terminationGracePeriodSeconds: 30,
          containers: [{
            name: "agent",
            image: spec.image,
            imagePullPolicy: "IfNotPresent",
            ports: [{ name: "ssh", containerPort: 22, protocol: "TCP" }],
            readinessProbe: { tcpSocket: { port: 22 }, periodSeconds: 2, failureThreshold: 3 },
            resources: {
              requests: { cpu: spec.cpuRequest, memory: spec.memoryRequest },
              limits: { cpu: spec.cpuLimit, memory: spec.memoryLimit },
            },
            securityContext: {
              allowPrivilegeEscalation: false,
              capabilities: { drop: ["ALL"], add: o.capabilities },
            },
            volumeMounts: mounts,
          }],
          volumes,
        },
      },
    },
  };
}

/** A ClusterIP Service for sshd only. */
export function serviceManifest(spec: InstanceSpec): Obj {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: meta(spec.name, spec),
    spec: {
      type: "ClusterIP",
      selector: selectorOf(spec.name),
      ports: [{ name: "ssh", port: 22, targetPort: 22, protocol: "TCP" }],
    },
  };
}

/**
 * Only the control plane's pods may reach the instance, and only on port 22 (every instance has one,
 * so instances cannot reach one another; egress stays open for the agent's own work).
 */
export function networkPolicyManifest(spec: InstanceSpec, o: KubernetesOptions): Obj {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: meta(`${spec.name}-ssh-only`, spec),
    spec: {
      podSelector: { matchLabels: selectorOf(spec.name) },
      policyTypes: ["Ingress"],
      ingress: [{
        from: [{ podSelector: { matchLabels: o.controlPlaneLabels } }],
        ports: [{ protocol: "TCP", port: 22 }],
      }],
    },
  };
}

/** A short-lived pod copying one volume into another (clone), reading the source read-only, no network use. */
export function copyPodManifest(spec: InstanceSpec, from: string, suffix: string, o: KubernetesOptions): Obj {
  return {
    apiVersion: "v1",
    kind: "Pod",
    // Not the instance's labels: its Deployment must never count (or adopt) this pod.
    metadata: { name: `${spec.name}-clone-${suffix}`, labels: { [MANAGED_BY]: MANAGED, "claworc.io/role": "copy" } },
    spec: {
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      securityContext: { seccompProfile: { type: "RuntimeDefault" } },
      ...(Object.keys(o.nodeSelector).length ? { nodeSelector: o.nodeSelector } : {}),
      ...(o.tolerations.length ? { tolerations: o.tolerations } : {}),
      ...(o.imagePullSecret ? { imagePullSecrets: [{ name: o.imagePullSecret }] } : {}),
      containers: [{
        name: "copy",
        image: spec.image,
        command: ["sh", "-c", "cp -a /from/. /to/"],
        securityContext: {
          allowPrivilegeEscalation: false,
          capabilities: { drop: ["ALL"], add: ["CHOWN", "FOWNER", "DAC_OVERRIDE"] },
        },
        volumeMounts: [{ name: "from", mountPath: "/from", readOnly: true }, { name: "to", mountPath: "/to" }],
      }],
      volumes: [
        { name: "from", persistentVolumeClaim: { claimName: pvcName(from, suffix), readOnly: true } },
        { name: "to", persistentVolumeClaim: { claimName: pvcName(spec.name, suffix) } },
      ],
    },
  };
}
