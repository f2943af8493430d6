import { CONFIG_VARIABLES } from "./config.ts";

/**
 * Every environment variable the program reads: its configuration (`CONFIG_VARIABLES`) and those
 * that choose how it reaches its engine (`DOCKER_HOST` for Docker; the variables Kubernetes sets in a
 * pod and the kubeconfig the Kubernetes client falls back to). The `--allow-env` of every task, the
 * binary and the image is exactly this list (tests/deploy/permissions_test.ts); other variables read
 * by libraries are seen as unset (core/env_guard.ts).
 */
export const ENV_READ: readonly string[] = [
  ...Object.keys(CONFIG_VARIABLES),
  "DOCKER_HOST",
  "HOME",
  "KUBECONFIG",
  "KUBERNETES_SERVICE_HOST",
  "KUBERNETES_SERVICE_PORT",
].sort();
