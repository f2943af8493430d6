import { z } from "zod";
import { definePlugin, Island } from "../../core/mod.ts";
import AuditViewer from "./islands/audit_viewer.tsx";

/** Options of the audit plugin. */
export interface AuditPluginOptions {
  /** How often retention is applied besides start-up and setting changes (ms). */
  retentionIntervalMs?: number;
  /** Rows per page in the audit page. */
  pageSize?: number;
}

export const auditDefaults = { retentionIntervalMs: 3_600_000, pageSize: 50 } satisfies Required<AuditPluginOptions>;

const isoTime = z.iso.datetime({ offset: true, error: "must be an ISO 8601 date-time such as 2026-01-31T12:00:00Z" })
  .transform((v) => new Date(v).toISOString());

/** Query of `GET /api/v1/audit-logs`. */
export const auditQuery = z.object({
  actor: z.string().max(64).optional(),
  action: z.string().max(64).optional(),
  target: z.string().max(256).optional(),
  instance_id: z.coerce.number().int().positive().optional(),
  outcome: z.enum(["success", "failure", "denied"]).optional(),
  since: isoTime.optional(),
  until: isoTime.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).max(1_000_000_000).default(0),
});

/**
 * The audit trail's API and page, and its retention: applied at start, hourly, and at once when an
 * admin changes `audit_retention_days` (no restart).
 */
export function auditPlugin(options: AuditPluginOptions = {}) {
  const opts = { ...auditDefaults, ...options };
  let timer: ReturnType<typeof setInterval> | undefined;
  let unsubscribe: (() => void) | undefined;
  return definePlugin({
    name: "audit",
    needs: ["audit", "settings"],
    setup(ctx) {
      const { audit } = ctx.services;
      const r = ctx.api("/audit-logs");
      r.add({
        method: "GET",
        path: "",
        permission: "admin",
        summary: "Audit entries, newest first, filtered and paged",
        query: auditQuery,
      }, (c, { query }) => c.json(audit.query(query)));
      r.add(
        { method: "GET", path: "/actions", permission: "admin", summary: "Action names present in the audit log" },
        (c) => c.json({ actions: audit.actions() }),
      );
      ctx.page({
        path: "/audit",
        title: "Audit log",
        permission: "admin",
        nav: { label: "Audit log", order: 60 },
        render: () => (
          <Island
            name="audit_viewer"
            component={AuditViewer}
            props={{
              initial: audit.query({ limit: opts.pageSize, offset: 0 }),
              actions: audit.actions(),
              pageSize: opts.pageSize,
            }}
          />
        ),
      });
    },
    ready(ctx) {
      const { audit, settings } = ctx.services;
      const apply = (days: number) => {
        const removed = audit.purgeOlderThan(days);
        if (removed) ctx.log.info("audit retention applied", { days, removed });
      };
      apply(settings.get().audit_retention_days);
      timer = setInterval(() => apply(settings.get().audit_retention_days), opts.retentionIntervalMs);
      unsubscribe = settings.onChange((values, changed) => {
        if (changed.includes("audit_retention_days")) apply(values.audit_retention_days);
      });
    },
    close() {
      clearInterval(timer);
      unsubscribe?.();
    },
  });
}
