import type { INamespace } from "kubernetes-models/v1/Namespace";
import type { IServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import type { IPersistentVolumeClaim } from "kubernetes-models/v1/PersistentVolumeClaim";
import type { IService } from "kubernetes-models/v1/Service";
import type { IEnvVar } from "kubernetes-models/v1/EnvVar";
import type { IProbe } from "kubernetes-models/v1/Probe";
import type { IRole } from "kubernetes-models/rbac.authorization.k8s.io/v1/Role";
import type { IRoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding";
import type { IDeployment } from "kubernetes-models/apps/v1/Deployment";
import type { IIngress } from "kubernetes-models/networking.k8s.io/v1/Ingress";
import type { ConfigVariable } from "../config.ts";
import { DATA_MOUNT, DATA_PATH, podCommand } from "./container_command.ts";
import type { ManifestOptions } from "./options.ts";
import { controlPlaneRules } from "./rbac.ts";

/**
 * Labels of the control plane's objects and pods. The kubernetes backend's NetworkPolicy lets pods
 * labelled `app.kubernetes.io/name: claworc` reach each instance's sshd. No `app.kubernetes.io/managed-by:
 * claworc`: that label marks what the backend made for instances, and it lists by it.
 */
export const CONTROL_PLANE_LABELS = {
  "app.kubernetes.io/name": "claworc",
  "app.kubernetes.io/component": "control-plane",
};

/** Names of the objects; `secret` is the one the operator creates (master key, metrics token). */
export const NAMES = {
  app: "claworc",
  dataClaim: "claworc-data",
  secret: "claworc-secrets",
} as const;

/** The container port (CLAWORC_PORT) and the Service's port. */
export const PORT = 8000;

/** UID/GID the control plane runs as; the image's files must be readable by it. */
export const RUN_AS = 1000;

export type KubeObject =
  | INamespace
  | IServiceAccount
  | IRole
  | IRoleBinding
  | IPersistentVolumeClaim
  | IService
  | IDeployment
  | IIngress;

function metadata(name: string, o: ManifestOptions) {
  return { name, namespace: o.namespace, labels: { ...CONTROL_PLANE_LABELS } };
}

/** The control plane's environment: only variables `core/config.ts` knows (the type checks the names). */
function environment(o: ManifestOptions): IEnvVar[] {
  const plain: [ConfigVariable, string | undefined][] = [
    ["CLAWORC_HOST", "0.0.0.0"],
    ["CLAWORC_PORT", String(PORT)],
    ["CLAWORC_DATA_PATH", DATA_PATH],
    ["CLAWORC_PUBLIC_URL", o.publicUrl || undefined],
    // Behind an Ingress the client's address is the last X-Forwarded-For entry the controller adds.
    ["CLAWORC_TRUST_PROXY", o.ingressHost ? "true" : undefined],
    ["CLAWORC_RUNTIME", "kubernetes"],
    ["CLAWORC_KUBE_NAMESPACE", o.namespace],
    ["CLAWORC_AGENT_IMAGE", o.agentImage],
    // No engine socket in a pod: the docker backend stays off.
    ["CLAWORC_DOCKER_SOCKET", "none"],
  ];
  const fromSecret = (name: ConfigVariable, optional: boolean): IEnvVar => ({
    name,
    valueFrom: { secretKeyRef: { name: NAMES.secret, key: name, optional } },
  });
  return [
    ...plain.filter((e): e is [ConfigVariable, string] => e[1] !== undefined).map(([name, value]) => ({ name, value })),
    // The master key never appears in these manifests: the operator creates the Secret once.
    fromSecret("CLAWORC_SECRET_KEY", false),
    fromSecret("CLAWORC_METRICS_TOKEN", true),
    { name: "DENO_NO_UPDATE_CHECK", value: "1" },
  ];
}

const health = (periodSeconds: number, failureThreshold: number): IProbe => ({
  httpGet: { path: "/health", port: "http" },
  periodSeconds,
  timeoutSeconds: 5,
  failureThreshold,
});

function deployment(o: ManifestOptions): IDeployment {
  const { command, args } = podCommand();
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: metadata(NAMES.app, o),
    spec: {
      // One SQLite database on a ReadWriteOnce volume: one replica, and the old pod stops first.
      replicas: 1,
      strategy: { type: "Recreate" },
      revisionHistoryLimit: 3,
      selector: { matchLabels: { ...CONTROL_PLANE_LABELS } },
      template: {
        metadata: { labels: { ...CONTROL_PLANE_LABELS } },
        spec: {
          serviceAccountName: NAMES.app,
          automountServiceAccountToken: true,
          // One Service per instance lands in this namespace; their variables would only bloat the env.
          enableServiceLinks: false,
          terminationGracePeriodSeconds: 30,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: RUN_AS,
            runAsGroup: RUN_AS,
            fsGroup: RUN_AS,
            fsGroupChangePolicy: "OnRootMismatch",
            seccompProfile: { type: "RuntimeDefault" },
          },
          containers: [{
            name: "claworc",
            image: o.image,
            imagePullPolicy: "IfNotPresent",
            command,
            args,
            ports: [{ name: "http", containerPort: PORT, protocol: "TCP" }],
            env: environment(o),
            // Migrations run before the server listens: give the first start time.
            startupProbe: health(2, 60),
            readinessProbe: health(10, 3),
            livenessProbe: health(20, 6),
            resources: {
              requests: { cpu: "100m", memory: "256Mi" },
              limits: { cpu: "2", memory: "1Gi" },
            },
            securityContext: {
              allowPrivilegeEscalation: false,
              privileged: false,
              readOnlyRootFilesystem: true,
              capabilities: { drop: ["ALL"] },
            },
            volumeMounts: [
              { name: "data", mountPath: DATA_MOUNT },
              { name: "tmp", mountPath: "/tmp" },
            ],
          }],
          volumes: [
            { name: "data", persistentVolumeClaim: { claimName: NAMES.dataClaim } },
            { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
          ],
        },
      },
    },
  };
}

function ingress(o: ManifestOptions): IIngress {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: {
      ...metadata(NAMES.app, o),
      // For ingress-nginx (others ignore them): WebSockets and event streams stay open for long, and
      // uploads are streamed and capped by Claworc itself.
      annotations: {
        "nginx.ingress.kubernetes.io/proxy-body-size": "0",
        "nginx.ingress.kubernetes.io/proxy-read-timeout": "3600",
        "nginx.ingress.kubernetes.io/proxy-send-timeout": "3600",
      },
    },
    spec: {
      ingressClassName: o.ingressClass || undefined,
      tls: o.tlsSecret ? [{ hosts: [o.ingressHost], secretName: o.tlsSecret }] : undefined,
      rules: [{
        host: o.ingressHost,
        http: {
          paths: [{
            path: "/",
            pathType: "Prefix",
            backend: { service: { name: NAMES.app, port: { name: "http" } } },
          }],
        },
      }],
    },
  };
}

/** Every object of the control plane for these (already resolved) options, in the order to apply them. */
export function controlPlaneObjects(o: ManifestOptions): KubeObject[] {
  const objects: KubeObject[] = [];
  if (o.createNamespace) objects.push({ apiVersion: "v1", kind: "Namespace", metadata: { name: o.namespace } });
  objects.push(
    { apiVersion: "v1", kind: "ServiceAccount", metadata: metadata(NAMES.app, o), automountServiceAccountToken: true },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: metadata(NAMES.app, o),
      rules: controlPlaneRules(o.namespace),
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: metadata(NAMES.app, o),
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: NAMES.app },
      subjects: [{ kind: "ServiceAccount", name: NAMES.app, namespace: o.namespace }],
    },
    {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: metadata(NAMES.dataClaim, o),
      spec: {
        accessModes: ["ReadWriteOnce"],
        storageClassName: o.storageClass || undefined,
        resources: { requests: { storage: o.dataSize } },
      },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: metadata(NAMES.app, o),
      spec: {
        type: "ClusterIP",
        selector: { ...CONTROL_PLANE_LABELS },
        ports: [{ name: "http", port: PORT, targetPort: "http", protocol: "TCP" }],
      },
    },
    deployment(o),
  );
  if (o.ingressHost) objects.push(ingress(o));
  return objects;
}
