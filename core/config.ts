import { z } from "zod";
import { imageRef } from "./instances/quantities.ts";

/** Every environment variable the control plane reads, with its default and meaning. */
export const CONFIG_VARIABLES = {
  CLAWORC_DATA_PATH: { default: "./data", help: "Folder for the database, keys and the master key (created 0700)." },
  CLAWORC_HOST: { default: "127.0.0.1", help: "Address to listen on." },
  CLAWORC_PORT: { default: "8000", help: "TCP port to listen on." },
  CLAWORC_SECRET_KEY: {
    default: "",
    help: "Master key (32 bytes, url-safe base64) that encrypts stored secrets; else a key file in the data folder.",
  },
  CLAWORC_PUBLIC_URL: {
    default: "",
    help: "URL people use to reach Claworc; its origin is the only one allowed for state changes and WebSockets.",
  },
  CLAWORC_ALLOWED_ORIGINS: { default: "", help: "Extra allowed origins, comma-separated." },
  CLAWORC_WEBAUTHN_RP_ID: {
    default: "",
    help:
      "Passkey relying-party ID: the public URL's host name or a parent domain of it; empty: the public URL's host (or the request's).",
  },
  CLAWORC_WEBAUTHN_RP_NAME: { default: "Claworc", help: "Name shown by the browser when creating a passkey." },
  CLAWORC_COOKIE_SECURE: {
    default: "auto",
    help: "`auto` (Secure when the public URL or request is HTTPS), `true` or `false`.",
  },
  CLAWORC_SESSION_IDLE_MINUTES: { default: "480", help: "A session ends after this much inactivity." },
  CLAWORC_SESSION_MAX_HOURS: { default: "168", help: "A session ends this long after sign-in, active or not." },
  CLAWORC_AUDIT_RETENTION_DAYS: {
    default: "90",
    help: "Initial audit retention; admins change it at run time in Settings.",
  },
  CLAWORC_MAX_BODY_BYTES: { default: "1048576", help: "Largest accepted request body for JSON APIs." },
  CLAWORC_TRUST_PROXY: {
    default: "false",
    help: "`true` to take the client IP from X-Forwarded-For (only behind your own reverse proxy).",
  },
  CLAWORC_LOG_LEVEL: { default: "info", help: "`debug`, `info`, `warn` or `error`." },
  CLAWORC_DOCKER_SOCKET: {
    default: "auto",
    help:
      "Docker (or Podman) API socket for the docker runtime backend. `auto`: DOCKER_HOST (unix://), then /var/run/docker.sock, then /run/podman/podman.sock, the first that answers; `none` turns the backend off.",
  },
  CLAWORC_AGENT_IMAGE: {
    default: "localhost/claworc-agent:dev",
    help: "Image new instances run: what `deno task build:agent` tags (or your own build of agent/).",
  },
  CLAWORC_METRICS_TOKEN: {
    default: "",
    help:
      "Bearer token a Prometheus scraper sends to GET /metrics (at least 32 characters); admins may always read it.",
  },
  CLAWORC_DOCKER_SUBNET_POOL: {
    default: "10.213.0.0/16",
    help:
      "IPv4 pool the docker backend carves each instance's network from (a /26 each; pick one your LAN does not use).",
  },
  CLAWORC_DOCKER_ATTACH_CONTAINER: {
    default: "",
    help:
      "Name or id of the control plane's own container when it runs in one (Docker Compose): the docker backend connects it to each instance's network so it can reach the instance; empty: off (Claworc runs on the engine's host).",
  },
  CLAWORC_RUNTIME: {
    default: "auto",
    help: "Runtime backend: `docker`, `kubernetes`, or `auto` (kubernetes when running inside a cluster, else docker).",
  },
  CLAWORC_KUBE_NAMESPACE: { default: "claworc", help: "Namespace for instances (must exist)." },
  CLAWORC_KUBECONFIG: {
    default: "",
    help: "Kubeconfig file; empty: the in-cluster service account, else KUBECONFIG or ~/.kube/config.",
  },
  CLAWORC_KUBE_CONTEXT: { default: "", help: "Kubeconfig context; empty: its current context." },
  CLAWORC_KUBE_STORAGE_CLASS: { default: "", help: "StorageClass of instance volumes; empty: the default." },
  CLAWORC_KUBE_IMAGE_PULL_SECRET: { default: "", help: "Secret for pulling the agent image; empty: none." },
  CLAWORC_KUBE_NODE_SELECTOR: {
    default: "",
    help: "Node selector for instance pods, `key=value,key=value`; empty: any node.",
  },
  CLAWORC_KUBE_TOLERATIONS: {
    default: "",
    help: 'Tolerations of instance pods as a JSON array, e.g. `[{"key":"agents","operator":"Exists"}]`; empty: none.',
  },
} as const;

export type ConfigVariable = keyof typeof CONFIG_VARIABLES;

const int = (min: number, max: number) =>
  z.string().trim().regex(/^\d+$/, "must be a whole number").transform(Number).pipe(z.number().int().min(min).max(max));
const toleration = z.object({
  key: z.string().max(316).optional(),
  operator: z.enum(["Exists", "Equal"]).optional(),
  value: z.string().max(63).optional(),
  effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]).optional(),
  tolerationSeconds: z.number().int().optional(),
}).strict();
const dns1123 = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const bool = z.enum(["true", "false"], "must be `true` or `false`").transform((v) => v === "true");
const origin = z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).transform((u) => new URL(u).origin);

const schema = z.object({
  CLAWORC_DATA_PATH: z.string().trim().min(1, "must not be empty"),
  CLAWORC_HOST: z.string().trim().min(1, "must not be empty"),
  CLAWORC_PORT: int(0, 65535),
  CLAWORC_SECRET_KEY: z.string().trim(),
  CLAWORC_PUBLIC_URL: z.union([z.literal(""), z.url({ protocol: /^https?$/, error: "must be an http(s) URL" })]),
  CLAWORC_ALLOWED_ORIGINS: z.string().transform((s) => s.split(",").map((o) => o.trim()).filter(Boolean)).pipe(
    z.array(origin),
  ),
  CLAWORC_WEBAUTHN_RP_ID: z.string().trim().toLowerCase().refine(
    (v) => v === "" || (dns1123Subdomain.test(v) && !/^[\d.]+$/.test(v)),
    "must be a domain name (not an IP address or URL)",
  ),
  CLAWORC_WEBAUTHN_RP_NAME: z.string().trim().min(1, "must not be empty").max(64, "must be at most 64 characters"),
  CLAWORC_COOKIE_SECURE: z.enum(["auto", "true", "false"], "must be `auto`, `true` or `false`"),
  CLAWORC_SESSION_IDLE_MINUTES: int(1, 525_600),
  CLAWORC_SESSION_MAX_HOURS: int(1, 87_600),
  CLAWORC_AUDIT_RETENTION_DAYS: int(1, 36_500),
  CLAWORC_MAX_BODY_BYTES: int(1024, 1 << 30),
  CLAWORC_TRUST_PROXY: bool,
  CLAWORC_LOG_LEVEL: z.enum(["debug", "info", "warn", "error"], "must be debug, info, warn or error"),
  CLAWORC_DOCKER_SOCKET: z.string().trim().min(1, "must not be empty").refine(
    (v) => v === "none" || v === "auto" || v.startsWith("/"),
    "must be an absolute socket path, `auto` or `none`",
  ),
  CLAWORC_AGENT_IMAGE: imageRef,
  CLAWORC_METRICS_TOKEN: z.string().trim().refine((v) => v === "" || v.length >= 32, "must be at least 32 characters"),
  CLAWORC_DOCKER_SUBNET_POOL: z.string().trim().regex(
    /^(10|172|192)\.\d{1,3}\.\d{1,3}\.\d{1,3}\/(8|9|1\d|2[0-2])$/,
    "must be a private IPv4 CIDR with room for /26 blocks, such as 10.213.0.0/16",
  ),
  CLAWORC_DOCKER_ATTACH_CONTAINER: z.string().trim().refine(
    (v) => v === "" || /^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/.test(v),
    "must be a container name or id (letters, digits, `_`, `.`, `-`)",
  ),
  CLAWORC_RUNTIME: z.enum(["auto", "docker", "kubernetes"], "must be auto, docker or kubernetes"),
  CLAWORC_KUBE_NAMESPACE: z.string().trim().regex(dns1123, "must be a DNS-1123 label (a-z, 0-9, -)"),
  CLAWORC_KUBECONFIG: z.string().trim(),
  CLAWORC_KUBE_CONTEXT: z.string().trim(),
  CLAWORC_KUBE_STORAGE_CLASS: z.string().trim().refine((v) => v === "" || dns1123Subdomain.test(v), "must be a name"),
  CLAWORC_KUBE_IMAGE_PULL_SECRET: z.string().trim().refine(
    (v) => v === "" || dns1123Subdomain.test(v),
    "must be a name",
  ),
  CLAWORC_KUBE_NODE_SELECTOR: z.string().trim().refine(
    (v) => v === "" || v.split(",").every((p) => /^[A-Za-z0-9./_-]+=[A-Za-z0-9._-]*$/.test(p.trim())),
    "must be key=value pairs separated by commas",
  ).transform((v) => Object.fromEntries(v ? v.split(",").map((p) => p.trim().split("=") as [string, string]) : [])),
  CLAWORC_KUBE_TOLERATIONS: z.string().trim().transform((v, ctx) => {
    if (!v) return [];
    try {
      return z.array(toleration).parse(JSON.parse(v));
    } catch {
      ctx.addIssue({ code: "custom", message: "must be a JSON array of tolerations (key, operator, value, effect)" });
      return z.NEVER;
    }
  }),
});

/** The validated configuration every part of the control plane reads. */
export interface Config {
  dataPath: string;
  host: string;
  port: number;
  secretKey: string | null;
  publicUrl: URL | null;
  allowedOrigins: string[];
  /**
   * Passkeys: the relying-party ID (null: the host name of the request's own origin, for set-ups
   * without a public URL) and the name browsers show. Origins are `allowedOrigins`.
   */
  webauthn: { rpId: string | null; rpName: string };
  cookieSecure: "auto" | boolean;
  sessionIdleMs: number;
  sessionMaxMs: number;
  auditRetentionDays: number;
  maxBodyBytes: number;
  trustProxy: boolean;
  logLevel: "debug" | "info" | "warn" | "error";
  /** Docker API socket, `auto` (look for one), or null when the docker backend is turned off. */
  dockerSocket: string | null;
  agentImage: string;
  dockerSubnetPool: string;
  /** The control plane's own container, to connect to instance networks; empty when it runs on the host. */
  dockerAttachContainer: string;
  /** Bearer token for GET /metrics, or null (admins only). */
  metricsToken: string | null;
  /** The runtime backend wanted (`auto` is resolved: kubernetes inside a cluster, else docker). */
  runtime: "docker" | "kubernetes";
  kube: {
    namespace: string;
    kubeconfig: string;
    context: string;
    storageClass: string;
    imagePullSecret: string;
    nodeSelector: Record<string, string>;
    tolerations: { key?: string; operator?: string; value?: string; effect?: string; tolerationSeconds?: number }[];
  };
}

/** Invalid configuration: the message names the variable and what is wrong. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** Reads configuration from `env` (a lookup, so only known variables are read). */
export function loadConfig(env: (name: string) => string | undefined): Config {
  const raw: Record<string, string> = {};
  for (const [name, spec] of Object.entries(CONFIG_VARIABLES)) raw[name] = env(name) ?? spec.default;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue.path[0]);
    throw new ConfigError(`Invalid ${name}=${JSON.stringify(raw[name])}: ${issue.message}.`);
  }
  const v = parsed.data;
  const publicUrl = v.CLAWORC_PUBLIC_URL ? new URL(v.CLAWORC_PUBLIC_URL) : null;
  const origins = new Set(v.CLAWORC_ALLOWED_ORIGINS);
  if (publicUrl) origins.add(publicUrl.origin);
  return {
    dataPath: v.CLAWORC_DATA_PATH,
    host: v.CLAWORC_HOST,
    port: v.CLAWORC_PORT,
    secretKey: v.CLAWORC_SECRET_KEY || null,
    publicUrl,
    allowedOrigins: [...origins],
    webauthn: { rpId: relyingPartyId(v.CLAWORC_WEBAUTHN_RP_ID, publicUrl), rpName: v.CLAWORC_WEBAUTHN_RP_NAME },
    cookieSecure: v.CLAWORC_COOKIE_SECURE === "auto" ? "auto" : v.CLAWORC_COOKIE_SECURE === "true",
    sessionIdleMs: v.CLAWORC_SESSION_IDLE_MINUTES * 60_000,
    sessionMaxMs: v.CLAWORC_SESSION_MAX_HOURS * 3_600_000,
    auditRetentionDays: v.CLAWORC_AUDIT_RETENTION_DAYS,
    maxBodyBytes: v.CLAWORC_MAX_BODY_BYTES,
    trustProxy: v.CLAWORC_TRUST_PROXY,
    logLevel: v.CLAWORC_LOG_LEVEL,
    dockerSocket: v.CLAWORC_DOCKER_SOCKET === "none" ? null : v.CLAWORC_DOCKER_SOCKET,
    agentImage: v.CLAWORC_AGENT_IMAGE,
    dockerSubnetPool: v.CLAWORC_DOCKER_SUBNET_POOL,
    dockerAttachContainer: v.CLAWORC_DOCKER_ATTACH_CONTAINER,
    metricsToken: v.CLAWORC_METRICS_TOKEN || null,
    // Kubernetes sets KUBERNETES_SERVICE_HOST in every container it runs.
    runtime: v.CLAWORC_RUNTIME === "auto"
      ? (env("KUBERNETES_SERVICE_HOST") ? "kubernetes" : "docker")
      : v.CLAWORC_RUNTIME,
    kube: {
      namespace: v.CLAWORC_KUBE_NAMESPACE,
      kubeconfig: v.CLAWORC_KUBECONFIG,
      context: v.CLAWORC_KUBE_CONTEXT,
      storageClass: v.CLAWORC_KUBE_STORAGE_CLASS,
      imagePullSecret: v.CLAWORC_KUBE_IMAGE_PULL_SECRET,
      nodeSelector: v.CLAWORC_KUBE_NODE_SELECTOR,
      tolerations: v.CLAWORC_KUBE_TOLERATIONS,
    },
  };
}

/**
 * The passkey relying-party ID, checked at start-up against the public URL: its host must be the ID
 * itself or a subdomain of it, or every browser would refuse the passkeys at sign-in.
 */
function relyingPartyId(configured: string, publicUrl: URL | null): string | null {
  const host = publicUrl?.hostname ?? null;
  if (!configured) {
    // An IP address cannot be an RP ID; passkeys then use the request's host name (e.g. localhost).
    return host && !/^[\d.]+$|^\[/.test(host) ? host : null;
  }
  if (!host) {
    throw new ConfigError(
      `CLAWORC_WEBAUTHN_RP_ID=${
        JSON.stringify(configured)
      } needs CLAWORC_PUBLIC_URL (the origin passkeys are used from).`,
    );
  }
  if (host !== configured && !host.endsWith(`.${configured}`)) {
    throw new ConfigError(
      `Invalid CLAWORC_WEBAUTHN_RP_ID=${JSON.stringify(configured)}: the public URL's host ${host} is not on that ` +
        "domain; use the host name or a parent domain of it.",
    );
  }
  return configured;
}
