import { z } from "zod";
import { CONFIG_VARIABLES } from "../config.ts";
import { imageRef } from "../instances/quantities.ts";
import { VERSION } from "../version.ts";

/** What `claworc kubernetes manifests` can change; every field is a command-line option. */
export interface ManifestOptions {
  /** Namespace of the control plane and of the instances it creates (a DNS-1123 label). */
  namespace: string;
  /** Also print the Namespace object (else it must exist). */
  createNamespace: boolean;
  /** The control plane's image (see the README for what it must contain). */
  image: string;
  /** CLAWORC_AGENT_IMAGE: the image new instances run. */
  agentImage: string;
  /** CLAWORC_PUBLIC_URL; empty: `http(s)://<ingress host>` with an Ingress, else unset (same-origin). */
  publicUrl: string;
  /** StorageClass of the data volume; empty: the cluster's default. */
  storageClass: string;
  /** Size of the data volume (database, SSH keys, terminal recordings). */
  dataSize: string;
  /** Host name of the Ingress; empty: no Ingress. */
  ingressHost: string;
  /** IngressClass; empty: the cluster's default. */
  ingressClass: string;
  /** TLS Secret of the Ingress (the public URL becomes https); empty: no TLS section. */
  tlsSecret: string;
}

export const manifestDefaults: ManifestOptions = {
  namespace: "claworc",
  createNamespace: false,
  image: `claworc:${VERSION}`,
  agentImage: CONFIG_VARIABLES.CLAWORC_AGENT_IMAGE.default,
  publicUrl: "",
  storageClass: "",
  dataSize: "10Gi",
  ingressHost: "",
  ingressClass: "",
  tlsSecret: "",
};

/** An option that cannot be used; the message names the option and the rule. */
export class ManifestOptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ManifestOptionError";
  }
}

const dnsLabel = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const optional = (schema: z.ZodType<string>) => z.union([z.literal(""), schema]);
const subdomain = z.string().max(253, "must be at most 253 characters").refine(
  (v) => v.split(".").every((label) => dnsLabel.test(label)),
  "must be a DNS-1123 name: lowercase letters, digits, '-' and '.', each part starting and ending alphanumeric",
);

const schema = z.object({
  namespace: z.string().regex(
    dnsLabel,
    "must be a DNS-1123 label: at most 63 lowercase letters, digits or '-', starting and ending alphanumeric",
  ),
  createNamespace: z.boolean(),
  image: imageRef,
  agentImage: imageRef,
  publicUrl: z.string(),
  storageClass: optional(subdomain),
  dataSize: z.string().regex(
    /^[1-9]\d{0,5}(Mi|Gi|Ti)$/,
    "must be a storage size such as 512Mi, 10Gi or 1Ti",
  ),
  ingressHost: optional(
    subdomain.refine((v) => !/^[\d.]+$/.test(v), "must be a DNS name; an Ingress host cannot be an IP address"),
  ),
  ingressClass: optional(subdomain),
  tlsSecret: optional(subdomain),
});

/** Option names as typed on the command line, for messages. */
export const FLAG_OF: Record<keyof ManifestOptions, string> = {
  namespace: "--namespace",
  createNamespace: "--create-namespace",
  image: "--image",
  agentImage: "--agent-image",
  publicUrl: "--public-url",
  storageClass: "--storage-class",
  dataSize: "--data-size",
  ingressHost: "--ingress-host",
  ingressClass: "--ingress-class",
  tlsSecret: "--tls-secret",
};

/**
 * Claworc is served at the root of its origin, so the public URL is an origin: scheme, host and port.
 * It is also the only origin allowed for state changes and WebSockets, and the origin passkeys (WebAuthn)
 * will be bound to.
 */
function publicOrigin(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ManifestOptionError(`Invalid --public-url ${JSON.stringify(value)}: must be a URL.`);
  }
  const bad = url.protocol !== "http:" && url.protocol !== "https:"
    ? "must be http:// or https://"
    : url.username || url.password
    ? "must not contain a user name or password"
    : url.pathname !== "/" || url.search || url.hash
    ? "must be an origin such as https://claworc.example.com (Claworc is served at the root: no path, query or fragment)"
    : null;
  if (bad) throw new ManifestOptionError(`Invalid --public-url ${JSON.stringify(value)}: ${bad}.`);
  return url.origin;
}

/**
 * Checks the options and settles what follows from them: the public URL (given, or from the Ingress
 * host and TLS), and options that only make sense with an Ingress. Throws ManifestOptionError.
 */
export function resolveOptions(input: Partial<ManifestOptions>): ManifestOptions {
  const merged = { ...manifestDefaults, ...input };
  const parsed = schema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue.path[0]) as keyof ManifestOptions;
    throw new ManifestOptionError(`Invalid ${FLAG_OF[key]} ${JSON.stringify(merged[key])}: ${issue.message}.`);
  }
  const o = parsed.data;
  if (!o.ingressHost) {
    for (const key of ["ingressClass", "tlsSecret"] as const) {
      if (o[key]) throw new ManifestOptionError(`${FLAG_OF[key]} needs --ingress-host.`);
    }
  }
  let publicUrl = o.publicUrl ? publicOrigin(o.publicUrl) : "";
  if (o.ingressHost) {
    if (!publicUrl) publicUrl = `${o.tlsSecret ? "https" : "http"}://${o.ingressHost}`;
    else if (new URL(publicUrl).hostname !== o.ingressHost) {
      throw new ManifestOptionError(
        `--public-url ${publicUrl} names another host than --ingress-host ${o.ingressHost}; ` +
          `browsers would be refused (the public URL is the only allowed origin).`,
      );
    }
  }
  return { ...o, publicUrl };
}
