import assert from "node:assert/strict";
import * as k8s from "@kubernetes/client-node";
import { AppError } from "../../../core/mod.ts";
import { KubernetesBackend } from "../../../plugins/kubernetes/backend.ts";
import { kubernetesPlugin } from "../../../plugins/kubernetes/mod.ts";
import { kubernetesDefaults } from "../../../plugins/kubernetes/options.ts";
import { builtinPlugins } from "../../../plugins/mod.ts";
import { AGENT_IMAGE, buildAgentImage } from "../../../scripts/build_agent_image.ts";
import { type TestApp, testApp } from "../../_helpers/harness.ts";
import { startKubeDouble } from "../../harness/kube/mod.ts";
import { startPodman } from "../../harness/podman.ts";
import { until } from "../../harness/pool.ts";

const NS = "claworc";
const MANAGED = "app.kubernetes.io/managed-by=claworc";

Deno.test({
  name:
    "kubernetes backend against the API double on Podman: create → SSH → terminal → stop keeps data → start → outside changes and resumed watches → clone → restart re-lists → delete leaves nothing",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const service = await startPodman();
    await buildAgentImage(undefined, service.env);
    const double = await startKubeDouble({
      podman: { socketPath: service.socketPath },
      namespaces: [NS],
      loopIntervalMs: 250,
      maxGraceSeconds: 5,
    });
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions(double.kubeconfig);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const net = kc.makeApiClient(k8s.NetworkingV1Api);
    const dataPath = await Deno.makeTempDir({ prefix: "claworc-kube-" });
    const open = () =>
      testApp({ CLAWORC_AGENT_IMAGE: AGENT_IMAGE, CLAWORC_DOCKER_SOCKET: "none" }, [
        ...builtinPlugins().filter((p) => p.name !== "docker" && p.name !== "kubernetes"),
        kubernetesPlugin({ kubeConfig: kc, namespace: NS }),
      ], { dataPath });
    let t: TestApp = await open();
    try {
      const admin = await t.setupAdmin();
      await t.services.lifecycle.attach();
      const health = await (await t.request("GET", "/health")).json();
      assert.equal(health.backend, "kubernetes");

      // Create through the API: a Deployment, its claim, Secret, Service and NetworkPolicy; SSH connects.
      const created = await t.request("POST", "/api/v1/instances", {
        cookie: admin,
        body: { display_name: "Kube one" },
      });
      assert.equal(created.status, 201, await created.clone().text());
      const { id } = await created.json();
      const name = t.services.instances.get(id).name;
      await until(() => t.services.ssh.status(id).state === "connected", 90_000, "SSH to the pod").catch(async (e) => {
        const pods = await core.listNamespacedPod({ namespace: NS, labelSelector: MANAGED });
        const inst = t.services.instances.get(id);
        const ops = t.services.operations.latest(id);
        throw new Error(
          `${e.message}: ${inst.status} ${inst.status_reason} ssh=${JSON.stringify(t.services.ssh.status(id))} ops=${
            JSON.stringify(ops)
          } pods=${JSON.stringify(pods.items.map((p) => p.status))}`,
        );
      });
      const objects = async () => ({
        deployments: (await apps.listNamespacedDeployment({ namespace: NS, labelSelector: MANAGED })).items.length,
        claims:
          (await core.listNamespacedPersistentVolumeClaim({ namespace: NS, labelSelector: MANAGED })).items.length,
        secrets: (await core.listNamespacedSecret({ namespace: NS, labelSelector: MANAGED })).items.length,
        services: (await core.listNamespacedService({ namespace: NS, labelSelector: MANAGED })).items.length,
        policies: (await net.listNamespacedNetworkPolicy({ namespace: NS, labelSelector: MANAGED })).items.length,
        pods: (await core.listNamespacedPod({ namespace: NS, labelSelector: MANAGED })).items.length,
      });
      assert.deepEqual(await objects(), { deployments: 1, claims: 1, secrets: 1, services: 1, policies: 1, pods: 1 });
      // The files came from the Secret, never the environment; the home is the claim, writable by the agent.
      const who = await t.services.ssh.exec(
        id,
        "id -un; test -s ~/.openclaw/openclaw.json && echo config; touch ~/w && echo home",
      );
      assert.deepEqual(who.stdout.trim().split("\n"), ["agent", "config", "home"]);

      // The logs fallback (for when SSH is down) reads the pod's log.
      const podLog = await t.services.runtime.require().logs(name, 50);
      assert.match(podLog, /supervisord|claworc/i, podLog);

      // A terminal (PTY shell on the pod, over the pooled SSH connection).
      const shell = await t.services.ssh.shell(id, { cols: 80, rows: 24 });
      let screen = "";
      shell.on("data", (d: Uint8Array) => screen += new TextDecoder().decode(d));
      shell.write("echo $((6*7))-kube\n");
      await until(() => screen.includes("42-kube"), 15_000, "the shell's answer");
      shell.close();

      // Stop keeps the claim (and what is on it); the pod goes; start brings it back with the data.
      await t.services.ssh.exec(id, "echo kept-data > ~/workspace/kept.txt");
      await until(() => t.services.operations.latest(id)?.state === "succeeded", 180_000, "the creation to finish");
      const stop = await t.request("POST", `/api/v1/instances/${id}/stop`, { cookie: admin });
      assert.ok(stop.status < 300, await stop.text());
      await until(() => t.services.instances.get(id).status === "stopped", 60_000, "stopped");
      await until(async () => (await objects()).pods === 0, 60_000, "the pod to go");
      assert.equal((await objects()).claims, 1);
      const start = await t.request("POST", `/api/v1/instances/${id}/start`, { cookie: admin });
      assert.ok(start.status < 300, await start.text());
      await until(() => t.services.ssh.status(id).state === "connected", 180_000, "SSH after the start");
      assert.equal((await t.services.ssh.exec(id, "cat ~/workspace/kept.txt")).stdout.trim(), "kept-data");

      // A change made in the cluster, not through Claworc, reaches the row through the pod watch.
      await apps.patchNamespacedDeploymentScale(
        { name, namespace: NS, body: { spec: { replicas: 0 } } },
        k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
      );
      const scaled = performance.now();
      await until(() => t.services.instances.get(id).status === "stopped", 30_000, "the watch to report the stop");
      console.log(`status after an outside scale to 0: ${Math.round(performance.now() - scaled)} ms`);
      await apps.patchNamespacedDeploymentScale(
        { name, namespace: NS, body: { spec: { replicas: 1 } } },
        k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
      );
      await until(() => t.services.instances.get(id).status === "running", 180_000, "the watch to report running");

      // A watch the API server ends is resumed: the next outside change still arrives.
      assert.ok(double.dropWatches({ resource: "pods" }) > 0);
      await apps.patchNamespacedDeploymentScale(
        { name, namespace: NS, body: { spec: { replicas: 0 } } },
        k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
      );
      await until(() => t.services.instances.get(id).status === "stopped", 30_000, "the resumed watch to report");
      await apps.patchNamespacedDeploymentScale(
        { name, namespace: NS, body: { spec: { replicas: 1 } } },
        k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
      );
      await until(() => t.services.ssh.status(id).state === "connected", 180_000, "SSH after the outside start");

      // A clone copies the home claim with a short-lived pod while the source keeps running.
      const cloned = await t.request("POST", `/api/v1/instances/${id}/clone`, { cookie: admin });
      assert.equal(cloned.status, 201, await cloned.clone().text());
      const cloneId = (await cloned.json()).id;
      await until(() => t.services.ssh.status(cloneId).state === "connected", 240_000, "SSH to the clone");
      assert.equal((await t.services.ssh.exec(cloneId, "cat ~/workspace/kept.txt")).stdout.trim(), "kept-data");
      assert.equal(t.services.ssh.status(id).state, "connected", "the source kept running");
      await until(() => t.services.operations.latest(cloneId)?.state === "succeeded", 180_000, "the clone to finish");
      const delClone = await t.request("DELETE", `/api/v1/instances/${cloneId}`, { cookie: admin });
      assert.ok(delClone.status < 300, await delClone.text());

      // A control-plane restart re-lists the cluster: a stop made while it was down is seen, and the
      // watch resumes (a start made after it is reported too).
      await t.close();
      await apps.patchNamespacedDeploymentScale(
        { name, namespace: NS, body: { spec: { replicas: 0 } } },
        k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
      );
      t = await open();
      await t.services.lifecycle.attach();
      await until(() => t.services.instances.get(id).status === "stopped", 60_000, "the stop seen at start-up");
      const cookie = await t.login("admin", "admin-password-1");
      const restart = await t.request("POST", `/api/v1/instances/${id}/start`, { cookie });
      assert.ok(restart.status < 300, await restart.text());
      await until(() => t.services.ssh.status(id).state === "connected", 180_000, "SSH after the restart");

      // Delete removes every object made for the instance, the claim and the container included.
      const del = await t.request("DELETE", `/api/v1/instances/${id}`, { cookie });
      assert.ok(del.status < 300, await del.text());
      await until(
        async () => {
          const o = await objects();
          return Object.values(o).every((n) => n === 0);
        },
        120_000,
        "every object to go",
      );
    } finally {
      await t.close().catch(() => {});
      await double.close();
      await service.stop();
      await Deno.remove(dataPath, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test("kubernetes errors say what to do: missing namespace, RBAC, quota, conflicts", async () => {
  const double = await startKubeDouble({ namespaces: [NS], loopIntervalMs: 100 });
  try {
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions(double.kubeconfig);
    const spec = {
      id: 3,
      name: "bot-three",
      image: "claworc-agent:dev",
      cpuRequest: "1",
      cpuLimit: "1",
      memoryRequest: "1Gi",
      memoryLimit: "1Gi",
      files: { gateway_token: "t" },
      volumes: { home: "1Gi" },
    };
    const failure = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (e) {
        assert.ok(e instanceof AppError, String(e));
        return e;
      }
      assert.fail("expected an error");
    };
    const missing = new KubernetesBackend(kc, { ...kubernetesDefaults, namespace: "nowhere" });
    assert.equal(await missing.available(), false);
    const noNs = await failure(missing.createVolumes(spec));
    assert.match(noNs.message, /namespaces "nowhere" not found.*Create the namespace/);

    const backend = new KubernetesBackend(kc, { ...kubernetesDefaults, namespace: NS });
    assert.equal(await backend.available(), true);
    const lift = double.faults.deny("create", "persistentvolumeclaims");
    const rbac = await failure(backend.createVolumes(spec));
    assert.equal(rbac.code, "ENGINE_ERROR");
    assert.match(
      rbac.message,
      /forbidden.*cannot create resource "persistentvolumeclaims".*service account needs this permission/,
    );
    lift();
    const unquota = double.faults.quota("secrets");
    const quota = await failure(backend.createWorkload(spec));
    assert.match(quota.message, /exceeded quota.*ResourceQuota/);
    unquota();

    await backend.createVolumes(spec);
    await backend.createWorkload(spec);
    const again = await failure(backend.createWorkload(spec));
    assert.equal(again.code, "CONFLICT");
    assert.match(again.message, /already exists/);
    assert.deepEqual(await backend.status(spec.name), { status: "stopped" });
    assert.equal((await backend.list()).map((i) => `${i.name}:${i.instanceId}`).join(), "bot-three:3");
    await backend.remove(spec.name);
    assert.deepEqual(await backend.status(spec.name), { status: "missing" });
    const unreachable = new k8s.KubeConfig();
    unreachable.loadFromOptions({
      ...double.kubeconfig,
      clusters: [{ ...double.kubeconfig.clusters[0], server: "http://127.0.0.1:9" }],
    });
    const down = await failure(new KubernetesBackend(unreachable, kubernetesDefaults).createVolumes(spec));
    assert.equal(down.code, "ENGINE_UNAVAILABLE");
  } finally {
    await double.close();
  }
});
