/**
 * The instance name the reference derives from a display name: `bot-` + lowercase slug (whitespace and
 * `_` become `-`, anything outside [a-z0-9-] is dropped, dashes trimmed), at most 63 characters (a DNS
 * label, so it works as a container and Kubernetes name).
 */
export function instanceName(displayName: string): string {
  const slug = displayName.toLowerCase().normalize("NFKD").replace(/[\s_]+/g, "-").replace(/[^a-z0-9-]/g, "")
    .replace(/-+/g, "-").replace(/^-|-$/g, "");
  return `bot-${slug || "instance"}`.slice(0, 63).replace(/-$/, "");
}
