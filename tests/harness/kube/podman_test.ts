import assert from "node:assert/strict";
// @ts-types="npm:@types/dockerode@4.0.2"
import Docker from "dockerode";
import { generateKeyPair } from "../../../core/ssh/key_store.ts";
import { loadSsh2 } from "../../../core/ssh/ssh2.ts";
import { AGENT_IMAGE, buildAgentImage } from "../../../scripts/build_agent_image.ts";
import { startPodman } from "../podman.ts";
import { startKubeDouble } from "./double.ts";
import { DOUBLE_LABEL } from "./podman_runtime.ts";
import { clients, eventually, k8s, patchAs } from "./test_client.ts";
import { WITHOUT_PODMAN } from "../podman_available.ts";

const NS = "claworc";
/** The first bytes sshd sends on ip:22 (retried until it answers or `timeoutMs` passes). */
async function sshBanner(ip: string, timeoutMs: number): Promise<string> {
  return await eventually(
    async () => {
      const conn = await Deno.connect({ hostname: ip, port: 22 });
      try {
        const buf = new Uint8Array(64);
        const n = await Promise.race([conn.read(buf), new Promise<null>((r) => setTimeout(() => r(null), 2_000))]);
        const text = n ? new TextDecoder().decode(buf.subarray(0, n)) : "";
        return text.startsWith("SSH-2.0-") ? text.trim() : undefined;
      } finally {
        conn.close();
      }
    },
    timeoutMs,
    `an SSH banner on ${ip}:22`,
  );
}

/** Logs in as agent with `key` (checking the host key) and runs `command`. */
async function sshRun(ip: string, key: string, hostKey: string, command: string): Promise<string> {
  const { Client } = await loadSsh2();
  return await new Promise((resolve, reject) => {
    const client = new Client();
    const expected = hostKey.split(" ")[1];
    client.on("ready", () => {
      client.exec(command, (err, stream) => {
        if (err) return reject(err);
        let out = "";
        stream.on("data", (d: Uint8Array) => out += new TextDecoder().decode(d));
        stream.on("close", () => {
          client.end();
          resolve(out);
        });
      });
    }).on("error", reject).connect({
      host: ip,
      port: 22,
      username: "agent",
      privateKey: key,
      readyTimeout: 15_000,
      hostVerifier: (k: Uint8Array) => btoa(String.fromCharCode(...k)) === expected,
    });
  });
}

Deno.test({
  name:
    "kube double on Podman: an agent-image Deployment with a PVC and a secret volume runs, answers SSH, scales, and leaves nothing",
  ignore: WITHOUT_PODMAN,
  async fn() {
    const service = await startPodman();
    const docker = new Docker({ socketPath: service.socketPath });
    let double: Awaited<ReturnType<typeof startKubeDouble>> | undefined;
    try {
      await buildAgentImage(undefined, service.env);
      double = await startKubeDouble({
        podman: { socketPath: service.socketPath },
        namespaces: [NS],
        loopIntervalMs: 250,
        maxGraceSeconds: 5,
      });
      const { core, apps } = clients(double);
      const client = generateKeyPair("control-plane");
      const host = generateKeyPair("host");
      await core.createNamespacedSecret({
        namespace: NS,
        body: {
          metadata: { name: "bot-files" },
          stringData: {
            authorized_keys: `${client.publicKey}\n`,
            host_key: host.privateKey,
            gateway_token: "gw-token",
          },
        },
      });
      await core.createNamespacedPersistentVolumeClaim({
        namespace: NS,
        body: {
          metadata: { name: "bot-home" },
          spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
        },
      });
      const body: k8s.V1Deployment = {
        metadata: { name: "bot", labels: { app: "bot" } },
        spec: {
          replicas: 1,
          strategy: { type: "Recreate" },
          selector: { matchLabels: { app: "bot" } },
          template: {
            metadata: { labels: { app: "bot" } },
            spec: {
              hostname: "bot",
              terminationGracePeriodSeconds: 5,
              securityContext: { fsGroup: 1000 },
              containers: [{
                name: "agent",
                image: AGENT_IMAGE,
                ports: [{ containerPort: 22, name: "ssh" }],
                readinessProbe: { tcpSocket: { port: "ssh" }, periodSeconds: 1 },
                resources: { limits: { memory: "2Gi", cpu: "1" }, requests: { memory: "512Mi", cpu: "250m" } },
                securityContext: {
                  capabilities: {
                    drop: ["ALL"],
                    add: [
                      "CHOWN",
                      "SETUID",
                      "SETGID",
                      "SYS_CHROOT",
                      "NET_BIND_SERVICE",
                      "KILL",
                      "FOWNER",
                      "DAC_OVERRIDE",
                      "SETPCAP",
                    ],
                  },
                },
                volumeMounts: [
                  { name: "home", mountPath: "/home/agent" },
                  { name: "files", mountPath: "/run/claworc", readOnly: true },
                ],
              }],
              volumes: [
                { name: "home", persistentVolumeClaim: { claimName: "bot-home" } },
                { name: "files", secret: { secretName: "bot-files", defaultMode: 0o400 } },
              ],
            },
          },
        },
      };
      await apps.createNamespacedDeployment({ namespace: NS, body });
      const readyPod = () =>
        eventually(
          async () => {
            const p = (await core.listNamespacedPod({ namespace: NS, labelSelector: "app=bot" })).items[0];
            const ready = p?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
            return ready && p.status?.podIP ? p : undefined;
          },
          120_000,
          "a Ready pod with an IP",
        );
      const pod = await readyPod();
      assert.equal(pod.status!.phase, "Running");
      assert.match(pod.status!.podIP!, /^\d+\.\d+\.\d+\.\d+$/);
      assert.notEqual(pod.status!.podIP, "127.0.0.1");
      const container = double.containerName(NS, pod.metadata!.name!);
      const info = await docker.getContainer(container).inspect();
      assert.equal(info.Config.Image, AGENT_IMAGE);
      assert.equal(info.HostConfig.Memory, 2 * 1024 ** 3);
      assert.equal(info.HostConfig.NanoCpus, 1e9);
      const dropped = (info.HostConfig.CapDrop ?? []) as string[];
      assert.ok(dropped.some((c) => /ALL|SETFCAP|FSETID/.test(c)), JSON.stringify(dropped));

      assert.match(await sshBanner(pod.status!.podIP!, 60_000), /^SSH-2\.0-OpenSSH/);
      // The secret's files and the fsGroup-owned PVC made it work end to end: key login, pinned host key.
      const out = await eventually(
        () =>
          sshRun(
            pod.status!.podIP!,
            client.privateKey,
            host.publicKey,
            "id -un; stat -c '%G %a' /home/agent; hostname",
          ),
        30_000,
        "an SSH login",
      );
      assert.deepEqual(out.trim().split("\n"), ["agent", "agent 2775", "bot"]);
      const log = await core.readNamespacedPodLog({ namespace: NS, name: pod.metadata!.name!, tailLines: 50 });
      assert.equal(typeof log, "string");
      assert.ok(log.length > 0, "the container wrote a log");

      // Scale to 0: pod and container go, the PVC's volume stays.
      const volume = double.volumeName(NS, "bot-home")!;
      await apps.patchNamespacedDeploymentScale(
        { namespace: NS, name: "bot", body: { spec: { replicas: 0 } } },
        patchAs(k8s.PatchStrategy.MergePatch),
      );
      await eventually(
        async () => (await core.listNamespacedPod({ namespace: NS })).items.length === 0,
        60_000,
        "the pod deleted",
      );
      await assert.rejects(
        docker.getContainer(container).inspect(),
        (e: { statusCode?: number }) => e.statusCode === 404,
      );
      assert.equal((await docker.getVolume(volume).inspect()).Name, volume);

      // Scale to 1: a new pod over the same volume.
      await apps.patchNamespacedDeploymentScale(
        { namespace: NS, name: "bot", body: { spec: { replicas: 1 } } },
        patchAs(k8s.PatchStrategy.MergePatch),
      );
      const second = await readyPod();
      assert.notEqual(second.metadata!.name, pod.metadata!.name);
      await sshBanner(second.status!.podIP!, 60_000);

      // Delete the Deployment and the PVC: nothing of theirs is left in Podman.
      await apps.deleteNamespacedDeployment({ namespace: NS, name: "bot" });
      await core.deleteNamespacedPersistentVolumeClaim({ namespace: NS, name: "bot-home" });
      await eventually(
        async () => (await core.listNamespacedPersistentVolumeClaim({ namespace: NS })).items.length === 0,
        60_000,
        "the PVC gone",
      );
      const mine = { label: [`${DOUBLE_LABEL}`] };
      await eventually(
        async () => {
          const containers = (await docker.listContainers({ all: true, filters: mine })).filter((c) =>
            c.Names.some((n) => n.includes(container.split("-")[0]))
          );
          const volumes = ((await docker.listVolumes({ filters: mine })).Volumes ?? []).filter((v) =>
            v.Name === volume
          );
          return containers.length === 0 && volumes.length === 0;
        },
        30_000,
        "no container or volume left",
      );
      const network = `kube-double-${container.slice(2, 10)}`;
      assert.equal((await docker.getNetwork(network).inspect()).Name, network);
      await double.close();
      double = undefined;
      await assert.rejects(docker.getNetwork(network).inspect(), (e: { statusCode?: number }) => e.statusCode === 404);
    } finally {
      await double?.close();
      await service.stop();
    }
  },
});
