import assert from "node:assert/strict";
import { startKubeDouble } from "./double.ts";
import { clients, deployment, k8s, statusOf } from "./test_client.ts";

const NS = "claworc";

Deno.test("kube double faults: RBAC denials word the 403 as the RBAC authorizer does", async () => {
  const double = await startKubeDouble({ namespaces: [NS] });
  try {
    const { core, apps } = clients(double);
    const lift = double.faults.deny("list", "pods");
    const denied = await statusOf(core.listNamespacedPod({ namespace: NS }));
    assert.deepEqual(denied, {
      httpCode: 403,
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message:
        'pods is forbidden: User "system:serviceaccount:claworc:claworc" cannot list resource "pods" in API group "" in the namespace "claworc"',
      reason: "Forbidden",
      details: { kind: "pods" },
      code: 403,
    });
    // Other verbs still work; lifting the rule restores the verb.
    assert.equal((await statusOf(core.readNamespacedPod({ namespace: NS, name: "x" }))).code, 404);
    lift();
    assert.deepEqual((await core.listNamespacedPod({ namespace: NS })).items, []);

    double.faults.deny("get", "pods/log");
    double.faults.deny("patch", "deployments/scale");
    double.faults.deny("create", "deployments.apps", { namespace: NS });
    const log = await statusOf(core.readNamespacedPodLog({ namespace: NS, name: "p" }));
    assert.equal(
      log.message,
      'pods "p" is forbidden: User "system:serviceaccount:claworc:claworc" cannot get resource "pods/log" in API group "" in the namespace "claworc"',
    );
    const create = await statusOf(apps.createNamespacedDeployment({ namespace: NS, body: deployment("d") }));
    assert.equal(
      create.message,
      'deployments.apps is forbidden: User "system:serviceaccount:claworc:claworc" cannot create resource "deployments" in API group "apps" in the namespace "claworc"',
    );
    assert.deepEqual(create.details, { group: "apps", kind: "deployments" });
    assert.ok((await core.listNamespace()).items.length >= 1);
    double.faults.deny("list", "namespaces");
    const cluster = await statusOf(core.listNamespace());
    assert.equal(
      cluster.message,
      'namespaces is forbidden: User "system:serviceaccount:claworc:claworc" cannot list resource "namespaces" in API group "" at the cluster scope',
    );
    double.faults.clear();
    assert.ok((await core.listNamespace()).items.length >= 1);
  } finally {
    await double.close();
  }
});

Deno.test("kube double faults: quota on create, failNext, bearer token", async () => {
  const double = await startKubeDouble({ namespaces: [NS], token: "s3cret" });
  try {
    const { core, apps, kc } = clients(double);
    const lift = double.faults.quota("secrets");
    const quota = await statusOf(core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: "s" } } }));
    assert.equal(quota.code, 403);
    assert.equal(quota.reason, "Forbidden");
    assert.equal(
      quota.message,
      'secrets "s" is forbidden: exceeded quota: claworc-quota, requested: limits.memory=4Gi, used: limits.memory=0, limited: limits.memory=2Gi',
    );
    assert.deepEqual(quota.details, { name: "s", kind: "secrets" });
    lift();
    await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: "s" } } });

    double.faults.failNext("get", "deployments.apps", { code: 503 });
    await apps.createNamespacedDeployment({ namespace: NS, body: deployment("d") });
    const unavailable = await statusOf(apps.readNamespacedDeployment({ namespace: NS, name: "d" }));
    assert.deepEqual([unavailable.code, unavailable.reason], [503, "ServiceUnavailable"]);
    assert.equal((await apps.readNamespacedDeployment({ namespace: NS, name: "d" })).metadata?.name, "d");

    // The kubeconfig carries the token; without it the server answers 401.
    assert.equal(kc.getCurrentUser()?.token, "s3cret");
    const anonymous = await fetch(`${double.url}/api/v1/namespaces/${NS}/secrets`);
    assert.equal(anonymous.status, 401);
    assert.equal((await anonymous.json()).reason, "Unauthorized");
    const fromYaml = new k8s.KubeConfig();
    fromYaml.loadFromString(double.kubeconfigYaml);
    assert.equal(fromYaml.getCurrentCluster()?.server, double.url);
    const viaYaml = fromYaml.makeApiClient(k8s.CoreV1Api);
    assert.equal((await viaYaml.listNamespacedSecret({ namespace: NS })).items.length, 1);
    assert.equal((await viaYaml.getAPIResources()).groupVersion, "v1");
  } finally {
    await double.close();
  }
});
