import assert from "node:assert/strict";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { PersistentVolumeClaim } from "kubernetes-models/v1/PersistentVolumeClaim";
import { Pod } from "kubernetes-models/v1/Pod";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import type { InstanceSpec } from "../../../core/mod.ts";
import {
  copyPodManifest,
  deploymentManifest,
  networkPolicyManifest,
  pvcManifest,
  secretManifest,
  serviceManifest,
} from "../../../plugins/kubernetes/manifests.ts";
import { kubernetesDefaults } from "../../../plugins/kubernetes/options.ts";
import { stateFromPods } from "../../../plugins/kubernetes/pod_state.ts";

const spec: InstanceSpec = {
  id: 7,
  name: "bot-seven",
  image: "claworc-agent:dev",
  cpuRequest: "500m",
  cpuLimit: "2",
  memoryRequest: "1Gi",
  memoryLimit: "4Gi",
  files: { authorized_keys: "ssh-ed25519 AAAA x\n", gateway_token: "t" },
  volumes: { home: "10Gi" },
};
const opts = {
  ...kubernetesDefaults,
  nodeSelector: { pool: "agents" },
  tolerations: [{ key: "agents", operator: "Exists", effect: "NoSchedule" }],
  imagePullSecret: "regcred",
  storageClass: "fast",
};

Deno.test("every object the kubernetes backend sends validates against Kubernetes' schemas", () => {
  // deno-lint-ignore no-explicit-any
  const check = (Model: new (o: any) => { validate(): void }, obj: unknown) => new Model(obj).validate();
  check(Deployment, deploymentManifest(spec, opts));
  check(Deployment, deploymentManifest(spec, kubernetesDefaults));
  check(PersistentVolumeClaim, pvcManifest(spec, "home", opts));
  check(Secret, secretManifest(spec));
  check(Service, serviceManifest(spec));
  check(NetworkPolicy, networkPolicyManifest(spec, opts));
  check(Pod, copyPodManifest(spec, "bot-source", "home", opts));
  // The schemas catch mistakes: a wrong type is refused.
  assert.throws(() => check(Service, { ...serviceManifest(spec), spec: { ports: [{ port: "ssh" }] } }));
});

Deno.test("an instance's pod is hardened, gets its files from the Secret and its home from its claim", () => {
  // deno-lint-ignore no-explicit-any
  const d = deploymentManifest(spec, opts) as any;
  const pod = d.spec.template.spec;
  const c = pod.containers[0];
  assert.equal(d.spec.replicas, 0, "created stopped");
  assert.equal(d.spec.strategy.type, "Recreate");
  assert.equal(pod.automountServiceAccountToken, false);
  assert.equal(pod.securityContext.seccompProfile.type, "RuntimeDefault");
  assert.equal(c.securityContext.allowPrivilegeEscalation, false);
  assert.deepEqual(c.securityContext.capabilities.drop, ["ALL"]);
  assert.ok(
    !c.securityContext.capabilities.add.includes("NET_ADMIN") &&
      !c.securityContext.capabilities.add.includes("SYS_ADMIN"),
  );
  assert.deepEqual(c.resources, { requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "2", memory: "4Gi" } });
  assert.equal(c.env, undefined, "no secret in the environment");
  assert.deepEqual(c.volumeMounts.find((m: { name: string }) => m.name === "files"), {
    name: "files",
    mountPath: "/run/claworc",
    readOnly: true,
  });
  assert.equal(c.volumeMounts.find((m: { name: string }) => m.name === "home").mountPath, "/home/agent");
  assert.deepEqual(pod.nodeSelector, { pool: "agents" });
  assert.deepEqual(pod.imagePullSecrets, [{ name: "regcred" }]);
  assert.equal(pod.hostname, "bot-seven");
  // Defaults: nothing optional is set.
  // deno-lint-ignore no-explicit-any
  const plain = (deploymentManifest(spec, kubernetesDefaults) as any).spec.template.spec;
  assert.equal(plain.nodeSelector, undefined);
  assert.equal(plain.tolerations, undefined);
  assert.equal(plain.imagePullSecrets, undefined);
  // Only the control plane's pods reach port 22; the Service exposes 22 only.
  // deno-lint-ignore no-explicit-any
  const np = networkPolicyManifest(spec, opts) as any;
  assert.deepEqual(np.spec.ingress, [{
    from: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "claworc" } } }],
    ports: [{ protocol: "TCP", port: 22 }],
  }]);
  // deno-lint-ignore no-explicit-any
  assert.deepEqual((serviceManifest(spec) as any).spec.ports.map((p: { port: number }) => p.port), [22]);
  // The copy pod is not one of the instance's pods (its Deployment must not adopt it).
  // deno-lint-ignore no-explicit-any
  const copy = copyPodManifest(spec, "bot-source", "home", opts) as any;
  assert.equal(copy.metadata.labels["claworc.io/instance"], undefined);
  assert.equal(copy.spec.volumes[0].persistentVolumeClaim.readOnly, true);
});

Deno.test("instance state from Kubernetes' own words: pending reasons, image pull, crash loop, ready", () => {
  const pod = (status: unknown, extra: Record<string, unknown> = {}) =>
    ({ metadata: { name: "p", ...extra }, status }) as never;
  assert.deepEqual(stateFromPods(0, []), { status: "stopped" });
  assert.equal(stateFromPods(1, []).status, "creating");
  assert.deepEqual(
    stateFromPods(1, [
      pod({ phase: "Pending", containerStatuses: [{ state: { waiting: { reason: "ContainerCreating" } } }] }),
    ]),
    { status: "creating", reason: "ContainerCreating" },
  );
  assert.deepEqual(
    stateFromPods(1, [
      pod({
        phase: "Pending",
        containerStatuses: [{ state: { waiting: { reason: "ImagePullBackOff", message: "no such image" } } }],
      }),
    ]),
    { status: "error", reason: "ImagePullBackOff: no such image" },
  );
  assert.equal(
    stateFromPods(1, [
      pod({
        phase: "Running",
        containerStatuses: [{ restartCount: 4, state: { waiting: { reason: "CrashLoopBackOff" } } }],
      }),
    ]).reason,
    "CrashLoopBackOff (restarted 4 times)",
  );
  assert.equal(
    stateFromPods(1, [
      pod({
        phase: "Pending",
        conditions: [{ type: "PodScheduled", status: "False", message: "0/3 nodes are available" }],
      }),
    ]).reason,
    "0/3 nodes are available",
  );
  const ready = pod({ phase: "Running", podIP: "10.0.0.5", conditions: [{ type: "Ready", status: "True" }] });
  assert.deepEqual(stateFromPods(1, [ready]), { status: "running" });
  // A terminating pod is not the instance's ready pod.
  const leaving = pod({ phase: "Running", podIP: "10.0.0.5", conditions: [{ type: "Ready", status: "True" }] }, {
    deletionTimestamp: "x",
  });
  assert.equal(stateFromPods(1, [leaving]).status, "creating");
  assert.deepEqual(stateFromPods(0, [leaving]), { status: "stopped", reason: "stopping" });
});
