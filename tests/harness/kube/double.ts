/**
 * `startKubeDouble()`: a Kubernetes API double for tests (see README.md in this folder for what it
 * models and what it does not).
 */
import { Api } from "./api.ts";
import { Controllers } from "./controller.ts";
import { Faults } from "./faults.ts";
import { Kubelet } from "./kubelet.ts";
import { PodmanRuntime } from "./podman_runtime.ts";
import { NAMESPACES, PODS, PVCS, type ResourceType } from "./resources.ts";
import type { PodRuntime } from "./runtime.ts";
import { createHandler } from "./server.ts";
import { SimulatedRuntime } from "./simulated_runtime.ts";
import { Store } from "./store.ts";
import type { KubeObject } from "./types.ts";
import type { OpenWatch } from "./watch.ts";

export interface KubeDoubleOptions {
  /** Run pods as Podman containers through this Podman service socket; without it pods are simulated. */
  podman?: { socketPath: string };
  /** Any other engine (e.g. a {@link SimulatedRuntime} a test keeps a handle on). */
  runtime?: PodRuntime;
  /** Namespaces made at start, besides default, kube-system, kube-public and kube-node-lease. */
  namespaces?: string[];
  /** The kubeconfig context's namespace (default: the first of `namespaces`, else "default"). */
  namespace?: string;
  /** Who the RBAC denials name (default `system:serviceaccount:claworc:claworc`). */
  user?: string;
  /** Require `Authorization: Bearer <token>` (the kubeconfig carries it). */
  token?: string;
  /** Watch events kept per resource type for replay (the API server's watch cache: 100+). Default 200. */
  historySize?: number;
  /** BOOKMARK period of watches that allow them (the API server: ~1 min). Default 60 000. */
  bookmarkIntervalMs?: number;
  /** How long a watch without timeoutSeconds lasts (the API server: 30–60 min). Default 1800. */
  watchMaxSeconds?: number;
  /** Controller/kubelet loop period. Default 300 ms. */
  loopIntervalMs?: number;
  /** CrashLoopBackOff: first delay and cap (the kubelet: 10 s and 5 min). Defaults 10 000 / 300 000. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Caps terminationGracePeriodSeconds when stopping containers (default: as the pod says). */
  maxGraceSeconds?: number;
  nodeName?: string;
  defaultStorageClass?: string;
}

export interface KubeConfigObject {
  clusters: { name: string; server: string; skipTLSVerify: boolean }[];
  users: { name: string; token?: string }[];
  contexts: { name: string; cluster: string; user: string; namespace: string }[];
  currentContext: string;
}

export interface KubeDouble {
  /** `http://127.0.0.1:<port>` (plain HTTP, no TLS). */
  url: string;
  /** For `new KubeConfig().loadFromOptions(double.kubeconfig)`. */
  kubeconfig: KubeConfigObject;
  /** The same as kubeconfig YAML, for `loadFromString` or a file. */
  kubeconfigYaml: string;
  /** The kubeconfig context's namespace. */
  namespace: string;
  api: Api;
  faults: Faults;
  runtime: PodRuntime;
  kubelet: Kubelet;
  createNamespace(name: string, labels?: Record<string, string>): KubeObject;
  /**
   * Ends open watches (optionally of one resource: "pods", "deployments.apps") the way the API server
   * ends a watch on timeout or shutdown: the response simply ends. Returns how many.
   */
  dropWatches(opts?: { resource?: string }): number;
  /** How many watches are open. */
  openWatches(resource?: string): number;
  /** Forgets the watch history: a watch from any earlier resourceVersion gets 410 Expired. */
  compact(): void;
  /** Resolves after the controllers and kubelet made `passes` full passes. */
  settle(passes?: number): Promise<void>;
  /** The engine name of a pod's container (first container when not named). */
  containerName(namespace: string, pod: string, container?: string): string;
  /** The engine volume behind a PVC, while the PVC exists. */
  volumeName(namespace: string, claim: string): string | undefined;
  close(): Promise<void>;
}

export async function startKubeDouble(opts: KubeDoubleOptions = {}): Promise<KubeDouble> {
  const id = crypto.randomUUID().slice(0, 8);
  const prefix = `kd${id}`;
  const runtime: PodRuntime = opts.runtime ??
    (opts.podman ? new PodmanRuntime(opts.podman.socketPath, id) : new SimulatedRuntime());
  await runtime.init();
  const store = new Store(opts.historySize ?? 200);
  let ipCounter = 0;
  const nodeName = opts.nodeName ?? "kube-double-node";
  const faults = new Faults(opts.user ?? "system:serviceaccount:claworc:claworc");
  const api = new Api(store, {
    // Loopback addresses, so nothing ever leaves the machine (a real cluster: 10.96.0.0/12).
    allocateClusterIp: () => {
      ipCounter++;
      return `127.96.${Math.floor(ipCounter / 250) % 250}.${(ipCounter % 250) + 1}`;
    },
    defaultStorageClass: opts.defaultStorageClass ?? "standard",
    nodeName,
  }, faults);
  const kubelet = new Kubelet(api, runtime, {
    nodeName,
    hostIp: "127.0.0.1",
    prefix,
    backoffMs: opts.backoffMs ?? 10_000,
    maxBackoffMs: opts.maxBackoffMs ?? 300_000,
    maxGraceSeconds: opts.maxGraceSeconds,
  });
  const controllers = new Controllers(api, kubelet, runtime, opts.loopIntervalMs ?? 300);
  const volumeRemovals = new Set<Promise<void>>();
  const unsubscribe = store.subscribe((e) => {
    if (e.resource === PVCS && e.type === "DELETED") {
      const p = controllers.pvcDeleted(e.object).finally(() => volumeRemovals.delete(p));
      volumeRemovals.add(p);
    }
  });
  const createNamespace = (name: string, labels?: Record<string, string>) =>
    api.create(NAMESPACES, undefined, { metadata: { name, ...(labels ? { labels } : {}) } });
  const contextNamespace = opts.namespace ?? opts.namespaces?.[0] ?? "default";
  for (const ns of new Set(["default", "kube-system", "kube-public", "kube-node-lease", ...(opts.namespaces ?? [])])) {
    createNamespace(ns);
  }
  const openWatches = new Set<OpenWatch>();
  const matchesResource = (w: OpenWatch, resource?: string) =>
    !resource || w.resource.plural === resource || `${w.resource.plural}.${w.resource.group}` === resource;
  const handler = createHandler({
    api,
    store,
    faults,
    kubelet,
    watch: { bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 60_000, maxTimeoutSeconds: opts.watchMaxSeconds ?? 1800 },
    openWatches,
    token: opts.token,
  });
  const { promise: listening, resolve } = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: resolve }, handler);
  const addr = await listening;
  const url = `http://127.0.0.1:${addr.port}`;
  controllers.start();

  const kubeconfig: KubeConfigObject = {
    // client-node 2.x refuses a plain-HTTP server unless skipTLSVerify is set (there is no TLS to verify).
    clusters: [{ name: "kube-double", server: url, skipTLSVerify: true }],
    users: [{ name: "claworc", ...(opts.token ? { token: opts.token } : {}) }],
    contexts: [{ name: "kube-double", cluster: "kube-double", user: "claworc", namespace: contextNamespace }],
    currentContext: "kube-double",
  };
  const kubeconfigYaml = [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: kube-double",
    "  cluster:",
    `    server: ${url}`,
    "    insecure-skip-tls-verify: true",
    "users:",
    "- name: claworc",
    opts.token ? `  user:\n    token: ${opts.token}` : "  user: {}",
    "contexts:",
    "- name: kube-double",
    "  context:",
    "    cluster: kube-double",
    "    user: claworc",
    `    namespace: ${contextNamespace}`,
    "current-context: kube-double",
    "",
  ].join("\n");

  let closed = false;
  return {
    url,
    kubeconfig,
    kubeconfigYaml,
    namespace: contextNamespace,
    api,
    faults,
    runtime,
    kubelet,
    createNamespace,
    dropWatches({ resource } = {}) {
      const victims = [...openWatches].filter((w) => matchesResource(w, resource));
      for (const w of victims) w.drop();
      return victims.length;
    },
    openWatches: (resource) => [...openWatches].filter((w) => matchesResource(w, resource)).length,
    compact: () => store.compact(),
    async settle(passes = 2) {
      for (let i = 0; i < passes; i++) await controllers.nextTick();
    },
    containerName(namespace, pod, container) {
      const p = store.get(PODS, namespace, pod);
      return kubelet.containerKey(
        { metadata: { namespace, name: pod } },
        container ?? p?.spec?.containers?.[0]?.name ?? "",
      );
    },
    volumeName(namespace, claim) {
      const pvc = store.get(PVCS, namespace, claim);
      return pvc ? kubelet.pvcVolume(pvc) : undefined;
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const w of [...openWatches]) w.drop();
      await controllers.stop();
      unsubscribe();
      await Promise.all(volumeRemovals);
      await server.shutdown();
      await runtime.close();
    },
  };
}

export type { ResourceType };
