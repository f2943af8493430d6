import { AppError } from "../errors.ts";
import type { RuntimeBackend } from "./runtime_backend.ts";

/** Holds the runtime backend a plugin registered, so core services can reach it without importing it. */
export class RuntimeRef {
  backend: RuntimeBackend | null = null;

  /** The backend, or NO_BACKEND when none is configured. */
  require(): RuntimeBackend {
    if (!this.backend) throw new AppError("NO_BACKEND", "No runtime backend (Docker or Kubernetes) is configured.");
    return this.backend;
  }
}
