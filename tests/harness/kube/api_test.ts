import assert from "node:assert/strict";
import { startKubeDouble } from "./double.ts";
import { clients, deployment, k8s, patchAs, statusOf } from "./test_client.ts";

const NS = "claworc";

Deno.test("kube double: namespaces, and creating in a missing namespace is 404 namespaces not found", async () => {
  const double = await startKubeDouble({ namespaces: [NS] });
  try {
    const { core } = clients(double);
    const ns = await core.readNamespace({ name: NS });
    assert.equal(ns.status?.phase, "Active");
    assert.equal(ns.metadata?.labels?.["kubernetes.io/metadata.name"], NS);
    const missing = await statusOf(core.readNamespace({ name: "nope" }));
    assert.deepEqual(missing, {
      httpCode: 404,
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'namespaces "nope" not found',
      reason: "NotFound",
      details: { name: "nope", kind: "namespaces" },
      code: 404,
    });
    const create = await statusOf(
      core.createNamespacedSecret({ namespace: "nope", body: { metadata: { name: "s" }, stringData: { a: "b" } } }),
    );
    assert.equal(create.code, 404);
    assert.equal(create.message, 'namespaces "nope" not found');
    assert.deepEqual(create.details, { name: "nope", kind: "namespaces" });
    const made = await core.createNamespace({ body: { metadata: { name: "extra" } } });
    assert.ok(made.metadata?.uid);
    assert.ok((await core.listNamespace()).items.some((n) => n.metadata?.name === "extra"));
  } finally {
    await double.close();
  }
});

Deno.test("kube double: secret CRUD, AlreadyExists / NotFound / Conflict / Invalid Status shapes", async () => {
  const double = await startKubeDouble({ namespaces: [NS] });
  try {
    const { core } = clients(double);
    const created = await core.createNamespacedSecret({
      namespace: NS,
      body: { metadata: { name: "keys", labels: { app: "a" } }, stringData: { token: "t0p" } },
    });
    assert.equal(created.type, "Opaque");
    assert.equal(created.data?.token, btoa("t0p"));
    assert.equal(created.stringData, undefined);
    assert.match(created.metadata!.resourceVersion!, /^\d+$/);
    assert.match(created.metadata!.uid!, /^[0-9a-f-]{36}$/);
    assert.match(String(created.metadata!.creationTimestamp!.toISOString()), /^\d{4}-/);

    const dup = await statusOf(core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: "keys" } } }));
    assert.deepEqual(dup, {
      httpCode: 409,
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'secrets "keys" already exists',
      reason: "AlreadyExists",
      details: { name: "keys", kind: "secrets" },
      code: 409,
    });

    const nf = await statusOf(core.readNamespacedSecret({ namespace: NS, name: "gone" }));
    assert.equal(nf.message, 'secrets "gone" not found');
    assert.equal(nf.reason, "NotFound");

    // Replace with the current resourceVersion works and bumps it; the stale one is a 409 Conflict.
    const replaced = await core.replaceNamespacedSecret({
      namespace: NS,
      name: "keys",
      body: { ...created, data: { token: btoa("new") } },
    });
    assert.ok(Number(replaced.metadata!.resourceVersion) > Number(created.metadata!.resourceVersion));
    const stale = await statusOf(
      core.replaceNamespacedSecret({ namespace: NS, name: "keys", body: { ...created, data: { token: btoa("x") } } }),
    );
    assert.deepEqual(stale, {
      httpCode: 409,
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message:
        'Operation cannot be fulfilled on secrets "keys": the object has been modified; please apply your changes to the latest version and try again',
      reason: "Conflict",
      details: { name: "keys", kind: "secrets" },
      code: 409,
    });
    // A replace that changes nothing keeps the resourceVersion (no event either).
    const same = await core.replaceNamespacedSecret({ namespace: NS, name: "keys", body: replaced });
    assert.equal(same.metadata!.resourceVersion, replaced.metadata!.resourceVersion);

    const bad = await statusOf(
      core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: "Bad_Name" }, data: { "a b": "" } } }),
    );
    assert.equal(bad.code, 422);
    assert.equal(bad.reason, "Invalid");
    assert.equal(bad.details?.kind, "Secret");
    assert.equal(bad.details?.name, "Bad_Name");
    assert.match(
      bad.message!,
      /^Secret "Bad_Name" is invalid: \[metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/,
    );
    assert.deepEqual(bad.details?.causes?.map((c) => [c.reason, c.field]), [
      ["FieldValueInvalid", "metadata.name"],
      ["FieldValueInvalid", "data[a b]"],
    ]);

    // DELETE of a secret answers with a Success Status carrying the uid.
    const res = await fetch(`${double.url}/api/v1/namespaces/${NS}/secrets/keys`, { method: "DELETE" });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Success",
      details: { name: "keys", kind: "secrets", uid: created.metadata!.uid },
    });
    assert.equal((await statusOf(core.readNamespacedSecret({ namespace: NS, name: "keys" }))).code, 404);
  } finally {
    await double.close();
  }
});

Deno.test("kube double: deployments validate, default, track generation, and list by label and field selector", async () => {
  const double = await startKubeDouble({ namespaces: [NS] });
  try {
    const { apps } = clients(double);
    const noContainers = deployment("empty");
    noContainers.spec!.template.spec!.containers = [];
    const invalid = await statusOf(apps.createNamespacedDeployment({ namespace: NS, body: noContainers }));
    assert.deepEqual(invalid, {
      httpCode: 422,
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'Deployment.apps "empty" is invalid: spec.template.spec.containers: Required value',
      reason: "Invalid",
      details: {
        name: "empty",
        group: "apps",
        kind: "Deployment",
        causes: [{ reason: "FieldValueRequired", message: "Required value", field: "spec.template.spec.containers" }],
      },
      code: 422,
    });
    const mismatch = deployment("mm");
    mismatch.spec!.template.metadata!.labels = { app: "other" };
    const mm = await statusOf(apps.createNamespacedDeployment({ namespace: NS, body: mismatch }));
    assert.match(
      mm.message!,
      /spec\.template\.metadata\.labels: Invalid value: \{"app":"other"\}: `selector` does not match template `labels`/,
    );
    const noName = await statusOf(
      apps.createNamespacedDeployment({ namespace: NS, body: { ...deployment("x"), metadata: {} } }),
    );
    assert.equal(
      noName.message,
      'Deployment.apps "" is invalid: metadata.name: Required value: name or generateName is required',
    );

    const a = await apps.createNamespacedDeployment({ namespace: NS, body: deployment("alpha") });
    assert.equal(a.metadata?.generation, 1);
    assert.equal(a.spec?.revisionHistoryLimit, 10);
    assert.equal(a.spec?.template.spec?.restartPolicy, "Always");
    assert.equal(a.spec?.template.spec?.containers[0].imagePullPolicy, "IfNotPresent");
    const b = deployment("beta");
    b.metadata!.labels = { app: "beta", tier: "web" };
    await apps.createNamespacedDeployment({ namespace: NS, body: b });
    const byLabel = await apps.listNamespacedDeployment({ namespace: NS, labelSelector: "tier=web" });
    assert.deepEqual(byLabel.items.map((d) => d.metadata?.name), ["beta"]);
    const setBased = await apps.listNamespacedDeployment({ namespace: NS, labelSelector: "app in (alpha,beta),!tier" });
    assert.deepEqual(setBased.items.map((d) => d.metadata?.name), ["alpha"]);
    const byName = await apps.listNamespacedDeployment({ namespace: NS, fieldSelector: "metadata.name=beta" });
    assert.deepEqual(byName.items.map((d) => d.metadata?.name), ["beta"]);
    assert.equal(byName.kind, "DeploymentList");
    assert.match(byName.metadata!.resourceVersion!, /^\d+$/);
    const badField = await statusOf(
      apps.listNamespacedDeployment({ namespace: NS, fieldSelector: "spec.paused=true" }),
    );
    assert.equal(badField.code, 400);
    assert.equal(
      badField.message,
      '"spec.paused" is not a known field selector: only "metadata.name", "metadata.namespace"',
    );

    // A status-only change by the controller does not bump generation; a spec change does.
    const current = await apps.readNamespacedDeployment({ namespace: NS, name: "alpha" });
    current.spec!.template.spec!.containers[0].env = [{ name: "A", value: "1" }];
    const updated = await apps.replaceNamespacedDeployment({ namespace: NS, name: "alpha", body: current });
    assert.equal(updated.metadata?.generation, 2);
    // The selector is immutable.
    updated.spec!.selector = { matchLabels: { app: "alpha", extra: "x" } };
    updated.spec!.template.metadata!.labels = { app: "alpha", extra: "x" };
    const immutable = await statusOf(apps.replaceNamespacedDeployment({ namespace: NS, name: "alpha", body: updated }));
    assert.match(immutable.message!, /spec\.selector: Invalid value: .*field is immutable/);

    // DELETE of a deployment answers with a Success Status (group apps, kind = resource).
    const del = await apps.deleteNamespacedDeployment({ namespace: NS, name: "beta" }) as unknown as Record<
      string,
      unknown
    >;
    assert.equal(del.kind, "Status");
    assert.equal(del.status, "Success");
    assert.deepEqual((del.details as Record<string, unknown>).group, "apps");
    assert.equal(
      (await statusOf(apps.readNamespacedDeployment({ namespace: NS, name: "beta" }))).message,
      'deployments.apps "beta" not found',
    );
  } finally {
    await double.close();
  }
});

Deno.test("kube double: merge, strategic merge and JSON patches, and the scale subresource", async () => {
  const double = await startKubeDouble({ namespaces: [NS] });
  try {
    const { apps } = clients(double);
    const d = deployment("p");
    d.spec!.template.spec!.containers.push({ name: "side", image: "busybox:1" });
    await apps.createNamespacedDeployment({ namespace: NS, body: d });
    // Merge patch: annotations added (rollout restart), arrays would be replaced.
    const restarted = await apps.patchNamespacedDeployment(
      {
        namespace: NS,
        name: "p",
        body: {
          spec: {
            template: { metadata: { annotations: { "kubectl.kubernetes.io/restartedAt": "2025-01-01T00:00:00Z" } } },
          },
        },
      },
      patchAs(k8s.PatchStrategy.MergePatch),
    );
    assert.equal(
      restarted.spec?.template.metadata?.annotations?.["kubectl.kubernetes.io/restartedAt"],
      "2025-01-01T00:00:00Z",
    );
    assert.equal(restarted.metadata?.generation, 2);
    assert.equal(restarted.spec?.template.spec?.containers.length, 2);
    // Strategic merge: containers merge by name.
    const smp = await apps.patchNamespacedDeployment(
      {
        namespace: NS,
        name: "p",
        body: {
          spec: { template: { spec: { containers: [{ name: "agent", resources: { limits: { memory: "1Gi" } } }] } } },
        },
      },
      patchAs(k8s.PatchStrategy.StrategicMergePatch),
    );
    assert.deepEqual(smp.spec?.template.spec?.containers.map((c) => [c.name, c.image, c.resources?.limits?.memory]), [
      ["agent", "localhost/claworc-agent:dev", "1Gi"],
      ["side", "busybox:1", undefined],
    ]);
    // The same body as a plain merge patch replaces the list: the container loses its image → 422.
    const merged = await statusOf(
      apps.patchNamespacedDeployment(
        { namespace: NS, name: "p", body: { spec: { template: { spec: { containers: [{ name: "agent" }] } } } } },
        patchAs(k8s.PatchStrategy.MergePatch),
      ),
    );
    assert.equal(merged.code, 422);
    assert.match(merged.message!, /spec\.template\.spec\.containers\[0\]\.image: Required value/);
    // JSON patch (the client's default patch type): test + replace; a failed test is the server's generic 422.
    const jp = await apps.patchNamespacedDeployment({
      namespace: NS,
      name: "p",
      body: [
        { op: "test", path: "/spec/replicas", value: 1 },
        { op: "replace", path: "/spec/template/spec/containers/1/image", value: "busybox:2" },
      ],
    });
    assert.equal(jp.spec?.template.spec?.containers[1].image, "busybox:2");
    const failed = await statusOf(
      apps.patchNamespacedDeployment({
        namespace: NS,
        name: "p",
        body: [{ op: "test", path: "/spec/replicas", value: 7 }],
      }),
    );
    assert.deepEqual([failed.code, failed.reason, failed.message], [
      422,
      "Invalid",
      "the server rejected our request due to an error in our request",
    ]);
    // A merge patch carrying a stale resourceVersion is a Conflict.
    const stalePatch = await statusOf(
      apps.patchNamespacedDeployment(
        { namespace: NS, name: "p", body: { metadata: { resourceVersion: "1" }, spec: { replicas: 3 } } },
        patchAs(k8s.PatchStrategy.MergePatch),
      ),
    );
    assert.equal(stalePatch.reason, "Conflict");

    // Scale subresource: read, replace, patch.
    const scale = await apps.readNamespacedDeploymentScale({ namespace: NS, name: "p" });
    assert.equal(scale.kind, "Scale");
    assert.equal(scale.apiVersion, "autoscaling/v1");
    assert.equal(scale.spec?.replicas, 1);
    assert.equal(scale.status?.selector, "app=p");
    const zero = await apps.replaceNamespacedDeploymentScale({
      namespace: NS,
      name: "p",
      body: { metadata: { name: "p", namespace: NS }, spec: { replicas: 0 } },
    });
    assert.equal(zero.spec?.replicas, 0);
    assert.equal((await apps.readNamespacedDeployment({ namespace: NS, name: "p" })).spec?.replicas, 0);
    const three = await apps.patchNamespacedDeploymentScale(
      { namespace: NS, name: "p", body: { spec: { replicas: 3 } } },
      patchAs(k8s.PatchStrategy.MergePatch),
    );
    assert.equal(three.spec?.replicas, 3);
    const negative = await statusOf(
      apps.replaceNamespacedDeploymentScale({
        namespace: NS,
        name: "p",
        body: { metadata: { name: "p" }, spec: { replicas: -1 } },
      }),
    );
    assert.equal(
      negative.message,
      'Scale.autoscaling "p" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0',
    );
    const staleScale = await statusOf(
      apps.replaceNamespacedDeploymentScale({
        namespace: NS,
        name: "p",
        body: { metadata: { name: "p", resourceVersion: scale.metadata!.resourceVersion }, spec: { replicas: 2 } },
      }),
    );
    assert.equal(staleScale.reason, "Conflict");
    const unsupported = await fetch(`${double.url}/apis/apps/v1/namespaces/${NS}/deployments/p`, {
      method: "PATCH",
      headers: { "content-type": "application/apply-patch+yaml" },
      body: "spec: {}",
    });
    assert.equal(unsupported.status, 415);
    assert.equal((await unsupported.json()).reason, "UnsupportedMediaType");
  } finally {
    await double.close();
  }
});

Deno.test("kube double: services, PVCs and network policies: CRUD, defaults, label selectors, delete answers", async () => {
  const double = await startKubeDouble({ namespaces: [NS] });
  try {
    const { core, net } = clients(double);
    const svc = await core.createNamespacedService({
      namespace: NS,
      body: {
        metadata: { name: "bot-ssh", labels: { app: "bot" } },
        spec: { selector: { app: "bot" }, ports: [{ port: 22 }] },
      },
    });
    assert.equal(svc.spec?.type, "ClusterIP");
    assert.match(svc.spec!.clusterIP!, /^127\.96\./);
    assert.equal(svc.spec?.ports?.[0].protocol, "TCP");
    assert.equal(svc.spec?.ports?.[0].targetPort, 22);
    const noPorts = await statusOf(
      core.createNamespacedService({ namespace: NS, body: { metadata: { name: "x" }, spec: {} } }),
    );
    assert.equal(noPorts.message, 'Service "x" is invalid: spec.ports: Required value');
    const patched = await core.patchNamespacedService(
      { namespace: NS, name: "bot-ssh", body: { metadata: { labels: { extra: "1" } } } },
      patchAs(k8s.PatchStrategy.MergePatch),
    );
    assert.deepEqual(patched.metadata?.labels, { app: "bot", extra: "1" });
    assert.deepEqual(
      (await core.listNamespacedService({ namespace: NS, labelSelector: "extra" })).items.map((s) => s.metadata?.name),
      ["bot-ssh"],
    );
    // Services answer DELETE with the deleted object.
    const gone = await core.deleteNamespacedService({ namespace: NS, name: "bot-ssh" });
    assert.equal(gone.kind, "Service");
    assert.equal(gone.metadata?.name, "bot-ssh");

    const pvc = await core.createNamespacedPersistentVolumeClaim({
      namespace: NS,
      body: {
        metadata: { name: "home", labels: { app: "bot" } },
        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
      },
    });
    assert.deepEqual(pvc.metadata?.finalizers, ["kubernetes.io/pvc-protection"]);
    assert.equal(pvc.spec?.storageClassName, "standard");
    assert.equal(pvc.status?.phase, "Pending");
    await double.settle();
    const bound = await core.readNamespacedPersistentVolumeClaim({ namespace: NS, name: "home" });
    assert.equal(bound.status?.phase, "Bound");
    assert.equal(bound.spec?.volumeName, `pvc-${pvc.metadata?.uid}`);
    const noSize = await statusOf(
      core.createNamespacedPersistentVolumeClaim({
        namespace: NS,
        body: { metadata: { name: "n" }, spec: { accessModes: ["ReadWriteOnce"] } },
      }),
    );
    assert.equal(noSize.message, 'PersistentVolumeClaim "n" is invalid: spec.resources[storage]: Required value');
    const immutable = await statusOf(
      core.patchNamespacedPersistentVolumeClaim(
        { namespace: NS, name: "home", body: { spec: { accessModes: ["ReadWriteMany"] } } },
        patchAs(k8s.PatchStrategy.MergePatch),
      ),
    );
    assert.match(immutable.message!, /spec: Forbidden: spec is immutable after creation/);
    // Not in use: DELETE answers with the object (deletionTimestamp set); pvc-protection then lets it go.
    const deleting = await core.deleteNamespacedPersistentVolumeClaim({ namespace: NS, name: "home" });
    assert.ok(deleting.metadata?.deletionTimestamp);
    await double.settle();
    assert.equal((await statusOf(core.readNamespacedPersistentVolumeClaim({ namespace: NS, name: "home" }))).code, 404);

    const np = await net.createNamespacedNetworkPolicy({
      namespace: NS,
      body: {
        metadata: { name: "bot-isolation", labels: { app: "bot" } },
        spec: { podSelector: { matchLabels: { app: "bot" } }, ingress: [{ ports: [{ port: 22 }] }] },
      },
    });
    assert.deepEqual(np.spec?.policyTypes, ["Ingress"]);
    assert.equal(np.metadata?.generation, 1);
    const npPatched = await net.patchNamespacedNetworkPolicy(
      { namespace: NS, name: "bot-isolation", body: [{ op: "add", path: "/spec/policyTypes/-", value: "Egress" }] },
    );
    assert.deepEqual(npPatched.spec?.policyTypes, ["Ingress", "Egress"]);
    assert.equal(npPatched.metadata?.generation, 2);
    const list = await net.listNamespacedNetworkPolicy({ namespace: NS, labelSelector: "app=bot" });
    assert.equal(list.items.length, 1);
    const npReplaced = await net.replaceNamespacedNetworkPolicy({
      namespace: NS,
      name: "bot-isolation",
      body: npPatched,
    });
    assert.equal(npReplaced.metadata?.resourceVersion, npPatched.metadata?.resourceVersion);
    await net.deleteNamespacedNetworkPolicy({ namespace: NS, name: "bot-isolation" });
    assert.equal((await net.listNamespacedNetworkPolicy({ namespace: NS })).items.length, 0);
    assert.deepEqual((await core.listNamespacedEvent({ namespace: NS })).kind, "EventList");
  } finally {
    await double.close();
  }
});
