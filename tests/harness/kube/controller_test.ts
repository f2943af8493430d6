import assert from "node:assert/strict";
import { startKubeDouble } from "./double.ts";
import { SimulatedRuntime } from "./simulated_runtime.ts";
import { clients, deployment, eventually, k8s, patchAs, statusOf } from "./test_client.ts";

const NS = "claworc";
const FAST = { loopIntervalMs: 50, backoffMs: 200, maxBackoffMs: 400 };

Deno.test("kube double controller: a Deployment gets a running pod; scale to 0 deletes it; a template change recreates it", async () => {
  const runtime = new SimulatedRuntime();
  const double = await startKubeDouble({ namespaces: [NS], runtime, ...FAST });
  try {
    const { core, apps } = clients(double);
    const d = await apps.createNamespacedDeployment({ namespace: NS, body: deployment("bot") });
    const pod = await eventually(
      async () => {
        const pods = await core.listNamespacedPod({ namespace: NS, labelSelector: "app=bot" });
        const p = pods.items[0];
        return p?.status?.phase === "Running" &&
            p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True")
          ? p
          : undefined;
      },
      5_000,
      "a ready pod",
    );
    const hash = pod.metadata!.labels!["pod-template-hash"];
    assert.match(pod.metadata!.name!, new RegExp(`^bot-${hash}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
    assert.deepEqual(
      pod.metadata!.ownerReferences!.map((r) => [r.apiVersion, r.kind, r.name, r.controller, r.blockOwnerDeletion]),
      [
        ["apps/v1", "ReplicaSet", `bot-${hash}`, true, true],
      ],
    );
    assert.match(pod.status!.podIP!, /^127\.0\.1\./);
    assert.equal(pod.status!.containerStatuses![0].restartCount, 0);
    assert.ok(pod.status!.containerStatuses![0].state!.running);
    assert.equal(pod.spec!.nodeName, "kube-double-node");
    const ready = await eventually(
      async () => {
        const x = await apps.readNamespacedDeployment({ namespace: NS, name: "bot" });
        return x.status?.readyReplicas === 1 && x.status.availableReplicas === 1 ? x : undefined;
      },
      5_000,
      "deployment status",
    );
    assert.equal(ready.status!.observedGeneration, 1);
    assert.equal(ready.metadata!.annotations!["deployment.kubernetes.io/revision"], "1");
    assert.deepEqual(ready.status!.conditions!.map((c) => [c.type, c.status, c.reason]), [
      ["Available", "True", "MinimumReplicasAvailable"],
      ["Progressing", "True", "NewReplicaSetAvailable"],
    ]);
    // The log subresource, with tailLines.
    const log = await core.readNamespacedPodLog({ namespace: NS, name: pod.metadata!.name!, tailLines: 1 });
    assert.equal(log, `started ${double.containerName(NS, pod.metadata!.name!)}\n`);

    // A rollout restart (template annotation): Recreate deletes the old pod before the new one exists.
    const seen: string[] = [];
    const watch = new k8s.Watch(clients(double).kc);
    const req = await watch.watch(
      `/api/v1/namespaces/${NS}/pods`,
      { resourceVersion: pod.metadata!.resourceVersion },
      (type, obj) => {
        seen.push(`${type} ${obj.metadata.name}${obj.metadata.deletionTimestamp ? " (terminating)" : ""}`);
      },
      () => {},
    );
    await apps.patchNamespacedDeployment(
      {
        namespace: NS,
        name: "bot",
        body: { spec: { template: { metadata: { annotations: { "kubectl.kubernetes.io/restartedAt": "now" } } } } },
      },
      patchAs(k8s.PatchStrategy.StrategicMergePatch),
    );
    const replacement = await eventually(
      async () => {
        const pods = (await core.listNamespacedPod({ namespace: NS, labelSelector: "app=bot" })).items;
        return pods.length === 1 && pods[0].metadata!.name !== pod.metadata!.name && pods[0].status?.phase === "Running"
          ? pods[0]
          : undefined;
      },
      5_000,
      "the replacement pod",
    );
    assert.notEqual(replacement.metadata!.labels!["pod-template-hash"], hash);
    assert.equal(replacement.metadata!.annotations!["kubectl.kubernetes.io/restartedAt"], "now");
    const old = pod.metadata!.name!;
    const firstNew = seen.findIndex((s) => s.startsWith(`ADDED ${replacement.metadata!.name}`));
    const oldGone = seen.indexOf(`DELETED ${old} (terminating)`);
    assert.ok(oldGone >= 0 && firstNew > oldGone, `Recreate order: ${seen.join(", ")}`);
    assert.ok(seen.includes(`MODIFIED ${old} (terminating)`), seen.join(", "));
    req.abort();
    assert.equal(runtime.containersByKey.size, 1);
    await eventually(
      async () =>
        (await apps.readNamespacedDeployment({ namespace: NS, name: "bot" })).metadata!
          .annotations!["deployment.kubernetes.io/revision"] === "2",
      5_000,
      "revision 2",
    );

    // Scale to 0: the pod goes, and with it the container.
    await apps.patchNamespacedDeploymentScale(
      { namespace: NS, name: "bot", body: { spec: { replicas: 0 } } },
      patchAs(k8s.PatchStrategy.MergePatch),
    );
    await eventually(
      async () => (await core.listNamespacedPod({ namespace: NS })).items.length === 0,
      5_000,
      "no pods",
    );
    assert.equal(runtime.containersByKey.size, 0);
    const zero = await eventually(
      async () => {
        const x = await apps.readNamespacedDeployment({ namespace: NS, name: "bot" });
        return x.status?.replicas === undefined && x.status?.observedGeneration === x.metadata?.generation
          ? x
          : undefined;
      },
      5_000,
      "status at 0",
    );
    assert.equal(zero.status?.readyReplicas, undefined);

    // Back to 1, then delete the Deployment: its pods are collected.
    await apps.patchNamespacedDeploymentScale(
      { namespace: NS, name: "bot", body: { spec: { replicas: 1 } } },
      patchAs(k8s.PatchStrategy.MergePatch),
    );
    await eventually(
      async () => (await core.listNamespacedPod({ namespace: NS })).items.length === 1,
      5_000,
      "a pod again",
    );
    await apps.deleteNamespacedDeployment({ namespace: NS, name: "bot" });
    await eventually(
      async () => (await core.listNamespacedPod({ namespace: NS })).items.length === 0,
      5_000,
      "pods collected",
    );
    assert.equal(runtime.containersByKey.size, 0);
    assert.equal(d.metadata!.name, "bot");
    const events = (await core.listNamespacedEvent({ namespace: NS })).items.map((e) => e.reason);
    for (const r of ["Scheduled", "Pulled", "Created", "Started", "Killing", "SuccessfulCreate", "ScalingReplicaSet"]) {
      assert.ok(events.includes(r), `event ${r} in ${events}`);
    }
  } finally {
    await double.close();
  }
});

Deno.test("kube double controller: missing image, missing secret, crash loop, quota on pod creation", async () => {
  const runtime = new SimulatedRuntime();
  runtime.missingImages.add("localhost/nope:1");
  const double = await startKubeDouble({ namespaces: [NS], runtime, ...FAST });
  try {
    const { core, apps } = clients(double);
    const statusOf1 = async (app: string) =>
      (await core.listNamespacedPod({ namespace: NS, labelSelector: `app=${app}` })).items[0];

    await apps.createNamespacedDeployment({ namespace: NS, body: deployment("noimg", "localhost/nope:1") });
    const backoff = await eventually(
      async () => {
        const p = await statusOf1("noimg");
        return p?.status?.containerStatuses?.[0].state?.waiting?.reason === "ImagePullBackOff" ? p : undefined;
      },
      5_000,
      "ImagePullBackOff",
    );
    assert.equal(backoff.status!.phase, "Pending");
    assert.equal(backoff.status!.podIP, undefined);
    const logWaiting = await statusOf(core.readNamespacedPodLog({ namespace: NS, name: backoff.metadata!.name! }));
    assert.equal(logWaiting.code, 400);
    assert.equal(
      logWaiting.message,
      `container "agent" in pod "${backoff.metadata!.name}" is waiting to start: ImagePullBackOff`,
    );

    const withSecret = deployment("nosecret");
    withSecret.spec!.template.spec!.volumes = [{ name: "claworc", secret: { secretName: "missing" } }];
    withSecret.spec!.template.spec!.containers[0].volumeMounts = [{ name: "claworc", mountPath: "/run/claworc" }];
    await apps.createNamespacedDeployment({ namespace: NS, body: withSecret });
    const creating = await eventually(
      async () => {
        const events = (await core.listNamespacedEvent({ namespace: NS, fieldSelector: "reason=FailedMount" })).items;
        return events.length ? events : undefined;
      },
      5_000,
      "FailedMount",
    );
    assert.equal(creating[0].message, 'MountVolume.SetUp failed for volume "claworc" : secret "missing" not found');
    assert.equal(
      (await statusOf1("nosecret")).status?.containerStatuses?.[0].state?.waiting?.reason,
      "ContainerCreating",
    );
    // Once the secret exists the pod starts, with the files in the container.
    await core.createNamespacedSecret({
      namespace: NS,
      body: { metadata: { name: "missing" }, stringData: { gateway_token: "tok" } },
    });
    const running = await eventually(
      async () => {
        const p = await statusOf1("nosecret");
        return p?.status?.phase === "Running" ? p : undefined;
      },
      5_000,
      "running after the secret appeared",
    );
    const files = runtime.containersByKey.get(double.containerName(NS, running.metadata!.name!))!.files;
    assert.deepEqual([...files.keys()], ["/run/claworc/gateway_token"]);
    assert.equal(new TextDecoder().decode(files.get("/run/claworc/gateway_token")!.content), "tok");
    assert.equal(files.get("/run/claworc/gateway_token")!.mode, 0o644);

    // Crash loop: the container exits, the pod shows CrashLoopBackOff, then restarts with restartCount 1.
    await apps.createNamespacedDeployment({ namespace: NS, body: deployment("crash") });
    const p = await eventually(
      async () => {
        const x = await statusOf1("crash");
        return x?.status?.phase === "Running" ? x : undefined;
      },
      5_000,
      "crash pod running",
    );
    runtime.exit(double.containerName(NS, p.metadata!.name!), 3);
    const looping = await eventually(
      async () => {
        const x = await statusOf1("crash");
        return x?.status?.containerStatuses?.[0].state?.waiting?.reason === "CrashLoopBackOff" ? x : undefined;
      },
      5_000,
      "CrashLoopBackOff",
    );
    assert.equal(looping.status!.containerStatuses![0].lastState!.terminated!.exitCode, 3);
    assert.equal(looping.status!.containerStatuses![0].lastState!.terminated!.reason, "Error");
    assert.equal(looping.status!.containerStatuses![0].ready, false);
    assert.ok(looping.status!.conditions!.some((c) => c.type === "Ready" && c.status === "False"));
    await eventually(
      async () => {
        const x = await statusOf1("crash");
        return x?.status?.containerStatuses?.[0].restartCount === 1 && x.status.containerStatuses[0].state?.running;
      },
      5_000,
      "restarted",
    );

    // A quota on pods: the Deployment's pods cannot be created; the Deployment says why.
    const lift = double.faults.quota("pods", "compute, requested: pods=1, used: pods=3, limited: pods=3");
    await apps.createNamespacedDeployment({ namespace: NS, body: deployment("quota") });
    const failing = await eventually(
      async () => {
        const x = await apps.readNamespacedDeployment({ namespace: NS, name: "quota" });
        return x.status?.conditions?.find((c) => c.type === "ReplicaFailure");
      },
      5_000,
      "ReplicaFailure",
    );
    assert.equal(failing.reason, "FailedCreate");
    assert.match(
      failing.message!,
      /^pods "quota-[a-z0-9]+-[a-z0-9]{5}" is forbidden: exceeded quota: compute, requested: pods=1/,
    );
    lift();
    await eventually(
      async () => (await statusOf1("quota"))?.status?.phase === "Running",
      5_000,
      "pod after the quota was lifted",
    );
  } finally {
    await double.close();
  }
});

Deno.test("kube double controller: PVC protection holds a claim while a pod uses it; namespace deletion empties it", async () => {
  const runtime = new SimulatedRuntime();
  const double = await startKubeDouble({ namespaces: [NS, "doomed"], runtime, ...FAST });
  try {
    const { core, apps } = clients(double);
    await core.createNamespacedPersistentVolumeClaim({
      namespace: NS,
      body: {
        metadata: { name: "home" },
        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
      },
    });
    const d = deployment("bot");
    d.spec!.template.spec!.volumes = [{ name: "home", persistentVolumeClaim: { claimName: "home" } }];
    d.spec!.template.spec!.containers[0].volumeMounts = [{ name: "home", mountPath: "/home/agent" }];
    await apps.createNamespacedDeployment({ namespace: NS, body: d });
    await eventually(
      async () => (await core.listNamespacedPod({ namespace: NS })).items[0]?.status?.phase === "Running",
      5_000,
      "pod",
    );
    const volume = double.volumeName(NS, "home")!;
    assert.ok(runtime.volumeNames.has(volume));
    const deleting = await core.deleteNamespacedPersistentVolumeClaim({ namespace: NS, name: "home" });
    assert.ok(deleting.metadata?.deletionTimestamp);
    await double.settle(3);
    const held = await core.readNamespacedPersistentVolumeClaim({ namespace: NS, name: "home" });
    assert.deepEqual(held.metadata?.finalizers, ["kubernetes.io/pvc-protection"]);
    assert.ok(runtime.volumeNames.has(volume));
    await apps.deleteNamespacedDeployment({ namespace: NS, name: "bot" });
    await eventually(
      async () =>
        (await statusOf(core.readNamespacedPersistentVolumeClaim({ namespace: NS, name: "home" }))).code === 404,
      5_000,
      "PVC gone after the pod",
    );
    await eventually(() => !runtime.volumeNames.has(volume), 5_000, "volume removed");

    await apps.createNamespacedDeployment({ namespace: "doomed", body: deployment("x") });
    await eventually(
      async () => (await core.listNamespacedPod({ namespace: "doomed" })).items.length === 1,
      5_000,
      "pod in doomed",
    );
    const ns = await core.deleteNamespace({ name: "doomed" }) as unknown as k8s.V1Namespace;
    assert.equal(ns.status?.phase, "Terminating");
    const refused = await statusOf(
      core.createNamespacedSecret({ namespace: "doomed", body: { metadata: { name: "s" } } }),
    );
    assert.equal(refused.code, 403);
    assert.equal(
      refused.message,
      'secrets "s" is forbidden: unable to create new content in namespace doomed because it is being terminated',
    );
    await eventually(
      async () => (await statusOf(core.readNamespace({ name: "doomed" }))).code === 404,
      5_000,
      "namespace gone",
    );
  } finally {
    await double.close();
  }
});
