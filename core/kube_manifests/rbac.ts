import type { IIoK8sApiRbacV1PolicyRule } from "kubernetes-models/rbac.authorization.k8s.io/v1/PolicyRule";

/**
 * What the kubernetes runtime backend does in its namespace, and nothing more: run each instance as a
 * Deployment (scaled 0/1 to stop and start) with its PVC, Secret (the files it is given), Service and
 * NetworkPolicy; read pods for status, SSH address and logs; run and delete the short-lived pod that
 * copies a volume for a clone; read its own Namespace object (how it checks that the API answers, for `/health`). No `pods/exec`
 * (everything reaches an instance over SSH) and nothing cluster-wide: a Role only grants within its
 * namespace, and `GET /api/v1/namespaces/<ns>` is authorized as a request in `<ns>`.
 */
export function controlPlaneRules(namespace: string): IIoK8sApiRbacV1PolicyRule[] {
  return [
    {
      apiGroups: ["apps"],
      resources: ["deployments", "deployments/scale"],
      verbs: ["get", "list", "watch", "create", "update", "patch", "delete"],
    },
    // `create`: the clone's copy pod (Deployments can make pods already, so this grants nothing new).
    { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch", "create", "delete"] },
    { apiGroups: [""], resources: ["pods/log"], verbs: ["get"] },
    {
      apiGroups: [""],
      resources: ["services", "secrets", "persistentvolumeclaims"],
      verbs: ["get", "list", "create", "update", "patch", "delete"],
    },
    {
      apiGroups: ["networking.k8s.io"],
      resources: ["networkpolicies"],
      verbs: ["get", "list", "create", "update", "patch", "delete"],
    },
    { apiGroups: [""], resources: ["namespaces"], resourceNames: [namespace], verbs: ["get"] },
  ];
}
