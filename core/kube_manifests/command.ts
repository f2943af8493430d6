import { parseArgs } from "node:util";
import { VERSION } from "../version.ts";
import { controlPlaneObjects, NAMES } from "./manifests.ts";
import { FLAG_OF, manifestDefaults, ManifestOptionError, type ManifestOptions, resolveOptions } from "./options.ts";
import { toYamlStream } from "./yaml.ts";

export const KUBERNETES_HELP = `Usage: claworc kubernetes manifests [options]

Prints the manifests that run the Claworc control plane in a Kubernetes namespace (YAML, to pipe into
kubectl apply -f -). Nothing is sent to a cluster. The master key is never printed: the Deployment reads
it from the Secret "${NAMES.secret}", which you create once (see the README).

  --namespace N         Namespace of the control plane and its instances. Default: ${manifestDefaults.namespace}
  --create-namespace    Also print the Namespace object.
  --image IMG           Control plane image. Default: ${manifestDefaults.image}
  --agent-image IMG     Image new instances run (CLAWORC_AGENT_IMAGE). Default: ${manifestDefaults.agentImage}
  --public-url URL      Origin people use, e.g. https://claworc.example.com (CLAWORC_PUBLIC_URL).
                        Default: derived from --ingress-host (https with --tls-secret), else unset.
  --storage-class SC    StorageClass of the data volume. Default: the cluster's default.
  --data-size SIZE      Size of the data volume. Default: ${manifestDefaults.dataSize}
  --ingress-host HOST   Also print an Ingress for this host.
  --ingress-class C     IngressClass of the Ingress. Default: the cluster's default.
  --tls-secret S        TLS Secret (in the namespace) for the Ingress host.
`;

/** The YAML stream for already resolved options: a header saying what to do first, then the objects. */
export function renderManifests(o: ManifestOptions): string {
  const ns = o.namespace;
  const header = [
    `Claworc ${VERSION} control plane, printed by \`claworc kubernetes manifests\` (deno task manifests).`,
    ...(o.createNamespace
      ? [
        "Create the Secret holding the master key (it is never in this file) once the Namespace exists;",
        "the pod waits for it:",
      ]
      : [
        "Before applying, create the Secret holding the master key (it is never in this file):",
        `  kubectl create namespace ${ns}`,
      ]),
    `  kubectl -n ${ns} create secret generic ${NAMES.secret} \\`,
    `    --from-literal=CLAWORC_SECRET_KEY="$(openssl rand -base64 32)"`,
    "Keep a copy of that key: the secrets Claworc stores cannot be read without it. The same Secret",
    "may hold CLAWORC_METRICS_TOKEN (for a Prometheus scraper).",
  ];
  return toYamlStream(controlPlaneObjects(o).map((value) => ({ value })), header);
}

/** Writes all of `text` (one writeSync may take only part of it). */
function writeStdout(text: string): void {
  let bytes = new TextEncoder().encode(text);
  while (bytes.length) bytes = bytes.subarray(Deno.stdout.writeSync(bytes));
}

type ParsedValues = Record<string, string | boolean | undefined>;

function optionsFrom(values: ParsedValues): Partial<ManifestOptions> {
  const input: Partial<Record<keyof ManifestOptions, string | boolean>> = {};
  for (const [key, flag] of Object.entries(FLAG_OF) as [keyof ManifestOptions, string][]) {
    const v = values[flag.slice(2)];
    if (v !== undefined) input[key] = typeof v === "string" ? v.trim() : v;
  }
  return input as Partial<ManifestOptions>;
}

/**
 * `claworc kubernetes ...`: prints the manifests on `out`; returns the exit code (2 for a bad command
 * line, with the reason on `err`).
 */
export function kubernetesCommand(
  args: string[],
  io: { out: (text: string) => void; err: (text: string) => void } = {
    out: writeStdout,
    err: (t) => console.error(t.trimEnd()),
  },
): number {
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = { help: { type: "boolean" } };
  for (const [key, flag] of Object.entries(FLAG_OF)) {
    options[flag.slice(2)] = { type: key === "createNamespace" ? "boolean" : "string" };
  }
  let parsed: { values: ParsedValues; positionals: string[] };
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    io.err(`claworc: ${(e as Error).message}\n\n${KUBERNETES_HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(KUBERNETES_HELP);
    return 0;
  }
  if (positionals.length !== 1 || positionals[0] !== "manifests") {
    io.err(`claworc: Unknown command "kubernetes ${positionals.join(" ")}".\n\n${KUBERNETES_HELP}`);
    return 2;
  }
  try {
    io.out(renderManifests(resolveOptions(optionsFrom(values))));
    return 0;
  } catch (e) {
    if (e instanceof ManifestOptionError) {
      io.err(`claworc: ${e.message}`);
      return 2;
    }
    throw e;
  }
}
