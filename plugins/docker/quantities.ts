import { AppError } from "../../core/mod.ts";

/** A Kubernetes-style CPU quantity ("500m", "2") as the engine's NanoCpus. */
export function nanoCpus(cpu: string): number {
  const n = cpu.endsWith("m") ? Number(cpu.slice(0, -1)) / 1000 : Number(cpu);
  if (!Number.isFinite(n) || n <= 0) throw new AppError("VALIDATION_FAILED", `Invalid CPU quantity "${cpu}".`);
  return Math.round(n * 1e9);
}

/** A Kubernetes-style memory quantity ("512Mi", "4Gi") in bytes. */
export function bytes(mem: string): number {
  const m = mem.match(/^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti)?$/);
  if (!m) throw new AppError("VALIDATION_FAILED", `Invalid memory quantity "${mem}".`);
  const unit = { Ki: 1 << 10, Mi: 1 << 20, Gi: 1 << 30, Ti: 2 ** 40 }[m[2] as "Ki"] ?? 1;
  return Math.round(Number(m[1]) * unit);
}
