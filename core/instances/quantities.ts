import { z } from "zod";

/** Kubernetes-style CPU quantity, e.g. `500m` or `2` (at most 64 cores). */
export const cpuQuantity = z.string().trim().regex(
  /^(\d{1,5}m|\d{1,2}(\.\d{1,3})?)$/,
  "must be a CPU quantity such as 500m or 2",
)
  .refine((v) => (v.endsWith("m") ? Number(v.slice(0, -1)) / 1000 : Number(v)) > 0, "must be more than zero");

/** Kubernetes-style memory quantity, e.g. `512Mi` or `4Gi` (at least 256Mi). */
export const memoryQuantity = z.string().trim().regex(
  /^\d{1,6}(Mi|Gi)$/,
  "must be a memory quantity such as 512Mi or 4Gi",
)
  .refine((v) => Number(v.slice(0, -2)) * (v.endsWith("Gi") ? 1024 : 1) >= 256, "must be at least 256Mi");

/** Virtual display size, e.g. `1280x800`. */
export const vncResolution = z.string().trim().regex(/^\d{3,4}x\d{3,4}$/, "must look like 1280x800");

/** A container image reference (registry/name:tag or @digest); no spaces or shell characters. */
export const imageRef = z.string().trim().min(1).max(255).regex(
  /^[a-z0-9]+([._\/:@-][a-zA-Z0-9]+)*$/,
  "must be an image reference such as localhost/claworc-agent:dev",
);
