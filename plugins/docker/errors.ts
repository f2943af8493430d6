import { AppError } from "../../core/mod.ts";

/** An engine failure as the API error a user can act on. */
export function translateEngineError(e: unknown, socketPath: string): AppError {
  const err = e as { statusCode?: number; code?: string; json?: { message?: string }; message?: string };
  const message = err.json?.message ?? err.message ?? String(e);
  if (err.code === "ENOENT" || err.code === "ECONNREFUSED" || err.code === "ECONNRESET" || err.code === "EPIPE") {
    return new AppError(
      "ENGINE_UNAVAILABLE",
      `The container engine at ${socketPath} is not reachable (${err.code}). Is Docker or Podman running?`,
    );
  }
  if (err.statusCode === 404 && /image/i.test(message)) {
    return new AppError(
      "IMAGE_MISSING",
      `The agent image is missing (${message}). Build it with \`deno task build:agent\` or pull it, then try again.`,
    );
  }
  if (err.statusCode === 404) {
    return new AppError("INSTANCE_NOT_FOUND", `Not found in the container engine: ${message}`);
  }
  if (err.statusCode === 409) return new AppError("CONFLICT", `The container engine refused: ${message}`);
  if (/setting rlimit/i.test(message)) {
    // The engine's default limits are above what this host lets it set (no CAP_SYS_RESOURCE, a low
    // hard limit): no container can start until the engine is configured, so say how.
    return new AppError(
      "ENGINE_ERROR",
      `The container engine could not apply its default resource limits on this host (${message}). ` +
        'Set limits the host allows, e.g. Podman: default_ulimits = ["nofile=20000:20000"] under [containers] in ' +
        "/etc/containers/containers.conf; Docker: --default-ulimit nofile=20000:20000 for dockerd. See " +
        "docs/operations.md, Troubleshooting.",
    );
  }
  return new AppError("ENGINE_ERROR", `Container engine error: ${message}`);
}
