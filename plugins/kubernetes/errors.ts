import { AppError } from "../../core/mod.ts";

/** The HTTP status of a client-node error (ApiException), if it is one. */
function statusOf(e: unknown): number | undefined {
  const code = (e as { code?: unknown })?.code;
  return typeof code === "number" ? code : undefined;
}

/** The `Status` object's message from the API's answer, when it sent one. */
function statusMessage(e: unknown): string | undefined {
  const body = (e as { body?: unknown })?.body;
  try {
    const status = typeof body === "string" ? JSON.parse(body) : body;
    return typeof status?.message === "string" ? status.message : undefined;
  } catch {
    return undefined;
  }
}

export const notFound = (e: unknown) => statusOf(e) === 404;

/**
 * A Kubernetes failure as an error people can act on: the API's own message, with what to do for
 * the usual causes (missing namespace, missing RBAC permission, quota, a conflict).
 */
export function kubeError(e: unknown, where: string): AppError {
  if (e instanceof AppError) return e;
  const status = statusOf(e);
  const message = statusMessage(e) ?? (e as Error)?.message ?? String(e);
  if (status === undefined) {
    return new AppError("ENGINE_UNAVAILABLE", `The Kubernetes API (${where}) cannot be reached: ${message}`);
  }
  if (status === 404 && /namespaces? "[^"]+" not found/.test(message)) {
    return new AppError(
      "ENGINE_ERROR",
      `Kubernetes: ${message}. Create the namespace (kubectl create namespace ...) or set CLAWORC_KUBE_NAMESPACE.`,
    );
  }
  if (status === 403 && /exceeded quota/i.test(message)) {
    return new AppError(
      "ENGINE_ERROR",
      `Kubernetes refused: ${message}. Raise the namespace's ResourceQuota or free resources.`,
    );
  }
  if (status === 403) {
    return new AppError(
      "ENGINE_ERROR",
      `Kubernetes refused: ${message}. The control plane's service account needs this permission (see deploy/kubernetes/).`,
    );
  }
  if (status === 409) {
    return new AppError("CONFLICT", `Kubernetes: ${message}`);
  }
  return new AppError("ENGINE_ERROR", `Kubernetes answered ${status}: ${message}`);
}
