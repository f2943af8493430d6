import denoJson from "../../deno.json" with { type: "json" };

/** Where the image holds the project (main.ts, static/ with the built islands). */
export const APP_DIR = "/app";
/** Where the data volume is mounted. */
export const DATA_MOUNT = "/var/lib/claworc";
/**
 * CLAWORC_DATA_PATH: a folder inside the volume, not its root, so Claworc creates it itself with mode
 * 0700 (a volume's root belongs to root and is group-writable under `fsGroup`).
 */
export const DATA_PATH = `${DATA_MOUNT}/data`;
/** Where Kubernetes mounts the service account token and CA the in-cluster API client reads. */
export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** Paths of the serve task and where they are in the pod; null: nothing to allow there. */
function inPod(path: string): string | null {
  if (path === "./static") return `${APP_DIR}/static`;
  if (path === "./data") return DATA_PATH;
  // Engine sockets (Docker, Podman) are for the docker backend; a pod gets none.
  if (path.endsWith(".sock")) return null;
  throw new Error(
    `deno.json's serve task allows "${path}", which has no place in the pod yet: ` +
      `map it in core/kube_manifests/container_command.ts.`,
  );
}

/**
 * The permission flags of `deno task serve` (the flags the program always runs with), with each path
 * moved to where it is in the pod: data in the volume, static files in the image, the service account
 * added for reading, engine sockets dropped. Any other flag is kept as it is.
 */
export function podPermissionFlags(serveCommand: string = denoJson.tasks.serve.command): string[] {
  const flags: string[] = [];
  for (const token of serveCommand.split(/\s+/)) {
    if (token === "-A" || token === "--allow-all") throw new Error("The serve task must not use --allow-all.");
    if (!token.startsWith("--allow-") && !token.startsWith("--deny-")) continue;
    const m = /^--(allow-read|allow-write)=(.*)$/.exec(token);
    if (!m) {
      flags.push(token);
      continue;
    }
    const paths = m[2].split(",").filter(Boolean).map(inPod).filter((p): p is string => p !== null);
    if (m[1] === "allow-read") paths.push(SERVICE_ACCOUNT_DIR);
    // With no path left the flag goes: a bare --allow-write would allow every path.
    if (paths.length) flags.push(`--${m[1]}=${[...new Set(paths)].join(",")}`);
  }
  return flags;
}

/**
 * The container's command line: `deno run` with the narrow flags, from the module cache the image was
 * built with (`--cached-only`: nothing is fetched at start, and the root filesystem is read-only).
 */
export function podCommand(): { command: string[]; args: string[] } {
  return { command: ["deno"], args: ["run", "--cached-only", ...podPermissionFlags(), `${APP_DIR}/main.ts`, "serve"] };
}
