import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { loadAllYaml } from "@kubernetes/client-node";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import { PersistentVolumeClaim } from "kubernetes-models/v1/PersistentVolumeClaim";
import { Service } from "kubernetes-models/v1/Service";
import { Role } from "kubernetes-models/rbac.authorization.k8s.io/v1/Role";
import { RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { Ingress } from "kubernetes-models/networking.k8s.io/v1/Ingress";
import type { IContainer } from "kubernetes-models/v1/Container";
import type { IPodSpec } from "kubernetes-models/v1/PodSpec";
import type { IPolicyRule } from "kubernetes-models/rbac.authorization.k8s.io/v1/PolicyRule";
import denoJson from "../../deno.json" with { type: "json" };
import { CONFIG_VARIABLES, loadConfig } from "../../core/config.ts";
import { Fernet } from "../../core/secrets/fernet.ts";
import { kubernetesCommand, renderManifests } from "../../core/kube_manifests/command.ts";
import { podPermissionFlags } from "../../core/kube_manifests/container_command.ts";
import { controlPlaneObjects } from "../../core/kube_manifests/manifests.ts";
import { type ManifestOptions, resolveOptions } from "../../core/kube_manifests/options.ts";
import { ENV_READ } from "../../core/permissions.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

// deno-lint-ignore no-explicit-any
type Obj = Record<string, any>;

/** The model class that validates each kind against the official schema. */
const MODELS: Record<string, { apiVersion: string; new (data: never): { validate(): void } }> = {
  Namespace,
  ServiceAccount,
  Role,
  RoleBinding,
  PersistentVolumeClaim,
  Service,
  Deployment,
  Ingress,
};

const FULL: Partial<ManifestOptions> = {
  namespace: "team-a",
  createNamespace: true,
  image: "images.example.com/claworc:1.2.3",
  agentImage: "images.example.com/claworc-agent:1.2.3",
  storageClass: "fast-ssd",
  dataSize: "20Gi",
  ingressHost: "claworc.example.com",
  ingressClass: "nginx",
  tlsSecret: "claworc-tls",
};

/** The printed YAML, parsed back. */
function render(options: Partial<ManifestOptions> = {}): Obj[] {
  return loadAllYaml(renderManifests(resolveOptions(options))).map((d) => JSON.parse(JSON.stringify(d)));
}

const byKind = (docs: Obj[], kind: string) => docs.filter((d) => d.kind === kind);
const one = (docs: Obj[], kind: string) => {
  const found = byKind(docs, kind);
  assert.equal(found.length, 1, `one ${kind}`);
  return found[0];
};
const podSpec = (docs: Obj[]): IPodSpec => one(docs, "Deployment").spec.template.spec;
const container = (docs: Obj[]): IContainer => podSpec(docs).containers[0];
const envOf = (docs: Obj[]) => Object.fromEntries((container(docs).env ?? []).map((e) => [e.name, e]));

Deno.test("every printed object validates against the Kubernetes schema of its kind", () => {
  for (const options of [{}, FULL, { publicUrl: "https://claworc.example.org:8443" }]) {
    const docs = render(options);
    assert.ok(docs.length >= 6);
    for (const doc of docs) {
      const Model = MODELS[doc.kind];
      assert.ok(Model, `a model for ${doc.kind}`);
      assert.equal(doc.apiVersion, Model.apiVersion);
      new Model(doc as never).validate();
    }
    // Read back by a real YAML parser into the client library's typed models, which drop fields they do
    // not know: the same objects, so the YAML is right and no field name is misspelt.
    const built = controlPlaneObjects(resolveOptions(options)).map((o) => JSON.parse(JSON.stringify(o)));
    assert.deepEqual(docs, built);
  }
  assert.deepEqual(render(FULL).map((d) => d.kind), [
    "Namespace",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "PersistentVolumeClaim",
    "Service",
    "Deployment",
    "Ingress",
  ]);
});

/** Each grant as `group/resource[:name] verb`, so the expectation reads as a list. */
function grants(rules: IPolicyRule[]): string[] {
  return rules.flatMap((r) =>
    (r.apiGroups ?? []).flatMap((g) =>
      (r.resources ?? []).flatMap((res) =>
        (r.resourceNames?.length ? r.resourceNames.map((n) => `${res}:${n}`) : [res]).flatMap((what) =>
          r.verbs.map((v) => `${g || "core"}/${what} ${v}`)
        )
      )
    )
  ).sort();
}

Deno.test("the Role grants exactly what the kubernetes backend uses, in its own namespace only", () => {
  const all = ["get", "list", "watch", "create", "update", "patch", "delete"];
  const crud = ["get", "list", "create", "update", "patch", "delete"];
  const expected = [
    ...all.flatMap((v) => [`apps/deployments ${v}`, `apps/deployments/scale ${v}`]),
    ...["get", "list", "watch", "create", "delete"].map((v) => `core/pods ${v}`),
    "core/pods/log get",
    ...crud.flatMap((v) => [`core/services ${v}`, `core/secrets ${v}`, `core/persistentvolumeclaims ${v}`]),
    ...crud.map((v) => `networking.k8s.io/networkpolicies ${v}`),
    "core/namespaces:team-a get",
  ].sort();
  const docs = render(FULL);
  const role = one(docs, "Role");
  assert.deepEqual(grants(role.rules), expected);
  assert.ok(role.rules.every((r: IPolicyRule) => !r.nonResourceURLs));
  const text = JSON.stringify(docs);
  assert.doesNotMatch(text, /"\*"|pods\/exec|pods\/attach|escalate|impersonate|"bind"/);
  for (const kind of ["ClusterRole", "ClusterRoleBinding"]) assert.equal(byKind(docs, kind).length, 0);

  const binding = one(docs, "RoleBinding");
  assert.deepEqual(binding.roleRef, { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name });
  assert.deepEqual(binding.subjects, [{ kind: "ServiceAccount", name: "claworc", namespace: "team-a" }]);
  assert.equal(podSpec(docs).serviceAccountName, "claworc");
  assert.equal(podSpec(docs).automountServiceAccountToken, true);
  assert.equal(one(docs, "ServiceAccount").automountServiceAccountToken, true);
});

Deno.test("the container runs deno with the serve task's narrow flags, moved to the pod's paths", () => {
  const c = container(render());
  assert.deepEqual(c.command, ["deno"]);
  assert.deepEqual(c.args, [
    "run",
    "--cached-only",
    "--allow-net",
    `--allow-env=${ENV_READ.join(",")}`,
    "--allow-read=/app/static,/var/lib/claworc/data,/var/run/secrets/kubernetes.io/serviceaccount",
    "--allow-write=/var/lib/claworc/data",
    "/app/main.ts",
    "serve",
  ]);
  for (const a of c.args ?? []) assert.doesNotMatch(a, /^(-A|--allow-all|--allow-run|--allow-ffi)$|\.sock/);
  // The same permissions by name as `deno task serve`: nothing added, nothing widened.
  const kinds = (flags: string[]) => flags.filter((f) => f.startsWith("--allow-")).map((f) => f.split("=")[0]);
  assert.deepEqual(kinds(c.args ?? []), kinds(denoJson.tasks.serve.command.split(" ")));

  assert.throws(() => podPermissionFlags("deno run -A main.ts serve"), /must not use --allow-all/);
  assert.throws(() => podPermissionFlags("deno run --allow-read=./static,/etc main.ts"), /"\/etc".*container_command/);
  // A write flag left with no path disappears rather than becoming a bare (allow everything) flag.
  assert.deepEqual(podPermissionFlags("deno run --allow-write=/var/run/docker.sock --allow-net=x:1 main.ts"), [
    "--allow-net=x:1",
  ]);
});

Deno.test("the environment is a valid configuration for the kubernetes backend, with the key from a Secret", () => {
  const docs = render(FULL);
  const env = envOf(docs);
  for (const name of Object.keys(env)) {
    if (name.startsWith("CLAWORC_")) assert.ok(name in CONFIG_VARIABLES, `${name} is a configuration variable`);
  }
  const values = Object.fromEntries(Object.entries(env).filter(([, e]) => "value" in e).map(([n, e]) => [n, e.value]));
  const config = loadConfig((n) => ({ ...values, CLAWORC_SECRET_KEY: "k".repeat(43) + "=" } as Obj)[n]);
  assert.equal(config.runtime, "kubernetes");
  assert.equal(config.kube.namespace, "team-a");
  assert.equal(config.host, "0.0.0.0");
  assert.equal(config.port, 8000);
  assert.equal(config.dataPath, "/var/lib/claworc/data");
  assert.equal(config.dockerSocket, null);
  assert.equal(config.agentImage, "images.example.com/claworc-agent:1.2.3");
  assert.equal(config.publicUrl?.origin, "https://claworc.example.com");
  assert.equal(config.trustProxy, true);

  assert.deepEqual(env.CLAWORC_SECRET_KEY, {
    name: "CLAWORC_SECRET_KEY",
    valueFrom: { secretKeyRef: { name: "claworc-secrets", key: "CLAWORC_SECRET_KEY", optional: false } },
  });
  assert.equal(env.CLAWORC_METRICS_TOKEN.valueFrom?.secretKeyRef?.optional, true);
  assert.equal(byKind(docs, "Secret").length, 0, "no Secret (and so no key) is ever printed");
  // The data volume is mounted where the data path lives.
  const mount = container(docs).volumeMounts!.find((m) => m.name === "data")!;
  assert.ok(config.dataPath.startsWith(mount.mountPath + "/"));
  assert.deepEqual(podSpec(docs).volumes!.find((v) => v.name === "data")!.persistentVolumeClaim, {
    claimName: one(docs, "PersistentVolumeClaim").metadata.name,
  });
});

Deno.test("what the documented `openssl rand -base64 32` prints is a master key Claworc accepts", async () => {
  for (let i = 0; i < 20; i++) {
    // Standard base64 with `+`, `/` and padding, as openssl writes it.
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
    await Fernet.fromKey(key);
  }
  assert.match(renderManifests(resolveOptions({})), /CLAWORC_SECRET_KEY="\$\(openssl rand -base64 32\)"/);
});

Deno.test("the pod is hardened, single and probed on /health", () => {
  const docs = render();
  const deployment = one(docs, "Deployment");
  assert.equal(deployment.spec.replicas, 1);
  assert.equal(deployment.spec.strategy.type, "Recreate");
  const spec = podSpec(docs);
  assert.equal(spec.securityContext!.runAsNonRoot, true);
  assert.ok(spec.securityContext!.runAsUser! > 0);
  assert.equal(spec.securityContext!.seccompProfile!.type, "RuntimeDefault");
  const c = container(docs);
  assert.deepEqual(c.securityContext, {
    allowPrivilegeEscalation: false,
    privileged: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
  });
  assert.equal(spec.hostNetwork ?? false, false);
  for (const probe of [c.startupProbe, c.readinessProbe, c.livenessProbe]) {
    assert.deepEqual(probe!.httpGet, { path: "/health", port: "http" });
  }
  assert.deepEqual(c.ports, [{ name: "http", containerPort: 8000, protocol: "TCP" }]);
  assert.ok(c.resources!.requests!.memory && c.resources!.limits!.memory && c.resources!.limits!.cpu);
  const service = one(docs, "Service");
  assert.equal(service.spec.type, "ClusterIP");
  assert.deepEqual(service.spec.selector, deployment.spec.selector.matchLabels);
  assert.deepEqual(deployment.spec.template.metadata.labels, deployment.spec.selector.matchLabels);
  // The backend's NetworkPolicy lets this label reach instances' sshd; its own label marks instances.
  assert.equal(deployment.spec.template.metadata.labels["app.kubernetes.io/name"], "claworc");
  assert.doesNotMatch(JSON.stringify(docs), /app\.kubernetes\.io\/managed-by/);
});

Deno.test("options change what they should and nothing else", () => {
  const plain = render();
  assert.equal(byKind(plain, "Ingress").length, 0);
  assert.equal(byKind(plain, "Namespace").length, 0);
  assert.equal(envOf(plain).CLAWORC_PUBLIC_URL, undefined, "same-origin until a public URL is known");
  assert.equal(envOf(plain).CLAWORC_TRUST_PROXY, undefined);
  assert.equal(one(plain, "PersistentVolumeClaim").spec.storageClassName, undefined);

  const docs = render(FULL);
  assert.equal(docs[0].kind, "Namespace");
  assert.equal(docs[0].metadata.name, "team-a");
  for (const d of docs.slice(1)) assert.equal(d.metadata.namespace, "team-a", d.kind);
  assert.doesNotMatch(JSON.stringify(docs), /"namespace":"claworc"/);
  assert.equal(envOf(docs).CLAWORC_KUBE_NAMESPACE.value, "team-a");
  assert.equal(container(docs).image, "images.example.com/claworc:1.2.3");
  assert.equal(envOf(docs).CLAWORC_AGENT_IMAGE.value, "images.example.com/claworc-agent:1.2.3");
  const pvc = one(docs, "PersistentVolumeClaim");
  assert.equal(pvc.spec.storageClassName, "fast-ssd");
  assert.equal(pvc.spec.resources.requests.storage, "20Gi");
  const ingress = one(docs, "Ingress");
  assert.equal(ingress.spec.ingressClassName, "nginx");
  assert.deepEqual(ingress.spec.tls, [{ hosts: ["claworc.example.com"], secretName: "claworc-tls" }]);
  assert.equal(ingress.spec.rules[0].host, "claworc.example.com");
  assert.deepEqual(ingress.spec.rules[0].http.paths[0].backend, {
    service: { name: "claworc", port: { name: "http" } },
  });
  // The public URL (the allowed origin) follows the Ingress: https with a TLS Secret, else http.
  assert.equal(envOf(docs).CLAWORC_PUBLIC_URL.value, "https://claworc.example.com");
  assert.equal(envOf(render({ ingressHost: "c.example.com" })).CLAWORC_PUBLIC_URL.value, "http://c.example.com");
  assert.equal(
    envOf(render({ ingressHost: "c.example.com", publicUrl: "https://c.example.com/" })).CLAWORC_PUBLIC_URL.value,
    "https://c.example.com",
  );
  assert.equal(
    envOf(render({ publicUrl: "https://x.example.com:8443" })).CLAWORC_PUBLIC_URL.value,
    "https://x.example.com:8443",
  );
});

/** Runs the command in-process, capturing what it prints. */
function run(args: string[]): { code: number; out: string; err: string } {
  let out = "";
  let err = "";
  const code = kubernetesCommand(args, { out: (t) => out += t, err: (t) => err += t });
  return { code, out, err };
}

Deno.test("bad options exit 2 with a message naming the option and the rule", () => {
  const cases: [string[], RegExp][] = [
    [["--namespace", "Team_A"], /Invalid --namespace "Team_A": must be a DNS-1123 label/],
    [["--namespace", "a".repeat(64)], /Invalid --namespace/],
    [["--public-url", "not a url"], /Invalid --public-url "not a url": must be a URL/],
    [["--public-url", "ftp://x.example.com"], /must be http:\/\/ or https:\/\//],
    [["--public-url", "https://x.example.com/claworc"], /must be an origin .*no path/],
    [["--public-url", "https://u:p@x.example.com"], /user name or password/],
    [["--image", "bad image"], /Invalid --image "bad image": must be an image reference/],
    [["--agent-image", ""], /Invalid --agent-image/],
    [["--data-size", "10GB"], /Invalid --data-size "10GB": must be a storage size/],
    [["--storage-class", "Fast_SSD"], /Invalid --storage-class/],
    [["--ingress-host", "10.0.0.1"], /cannot be an IP address/],
    [["--ingress-host", "bad_host.example.com"], /Invalid --ingress-host/],
    [["--tls-secret", "tls"], /--tls-secret needs --ingress-host/],
    [["--ingress-class", "nginx"], /--ingress-class needs --ingress-host/],
    [["--ingress-host", "a.example.com", "--public-url", "https://b.example.com"], /names another host/],
    [["--bogus"], /Unknown option '--bogus'/],
    [["--namespace"], /--namespace/],
  ];
  for (const [options, message] of cases) {
    const args = ["manifests", ...options];
    const r = run(args);
    assert.equal(r.code, 2, args.join(" "));
    assert.equal(r.out, "");
    assert.match(r.err, message, args.join(" "));
  }
  for (const args of [[], ["apply"], ["manifests", "extra"]]) {
    const r = run(args);
    assert.equal(r.code, 2);
    assert.match(r.err, /Unknown command "kubernetes/);
  }
  const help = run(["manifests", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.out, /--ingress-host HOST/);
});

Deno.test("deno task cli kubernetes manifests prints the manifests; bad options exit 2", async () => {
  const cli = async (args: string[]) => {
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["task", "-q", "cli", "kubernetes", "manifests", ...args],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    return { code: r.code, out: new TextDecoder().decode(r.stdout), err: new TextDecoder().decode(r.stderr) };
  };
  const [good, bad] = await Promise.all([cli(["--namespace", "team-b"]), cli(["--namespace", "Team B"])]);
  assert.equal(good.code, 0, good.err);
  assert.equal(good.out, renderManifests(resolveOptions({ namespace: "team-b" })));
  assert.equal(bad.code, 2);
  assert.match(bad.err, /claworc: Invalid --namespace "Team B": must be a DNS-1123 label/);
});

Deno.test("deploy/kubernetes/claworc.yaml is what the command prints with default options", async () => {
  const file = await Deno.readTextFile(`${ROOT}/deploy/kubernetes/claworc.yaml`);
  assert.ok(
    file === renderManifests(resolveOptions({})),
    "deploy/kubernetes/claworc.yaml is stale: regenerate it with `deno task manifests`",
  );
  // No key of any kind in the checked-in file: the Secret is referenced, never written.
  assert.doesNotMatch(file, /kind: Secret\b/);
  assert.doesNotMatch(file, /[A-Za-z0-9_-]{43}=/);
});
