import type { Router } from "../../core/http/router.ts";
import type { PluginHost } from "../../core/plugins/host.ts";
import type { CoreServices } from "../../core/services.ts";

/** A Prometheus label value, escaped. */
const label = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

/** HELP text, escaped as the text format asks (a backslash or a newline would break the line). */
const helpText = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");

/** Prometheus text exposition: one HELP/TYPE header per metric, then its samples. */
function metric(name: string, type: "gauge" | "counter", help: string, samples: [string, number][]): string {
  const lines = [`# HELP ${name} ${helpText(help)}`, `# TYPE ${name} ${type}`];
  for (const [labels, value] of samples) lines.push(`${name}${labels ? `{${labels}}` : ""} ${value}`);
  return lines.join("\n");
}

const round = (ms: number) => Math.round(ms * 100) / 100;

function countBy<T>(items: T[], key: (t: T) => string): [string, number][] {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return [...counts];
}

/**
 * `GET /metrics`: instances by status, SSH connections by state, tunnel probe latencies, SSH events
 * open SSH channels by kind (terminals are `pty`, tunnels `tunnel`), HTTP requests since start, then the
 * families plugins added. Admins, or a scraper with `CLAWORC_METRICS_TOKEN` as a bearer token.
 */
export function metricsRoutes(root: Router, s: CoreServices, host: PluginHost): void {
  root.add({
    method: "GET",
    path: "/metrics",
    permission: "metrics",
    summary: "Prometheus metrics (admin session or the metrics bearer token)",
    tags: ["system"],
  }, (c) => {
    const instances = s.instances.all();
    const links = instances.map((i) => ({ inst: i, ssh: s.ssh.health(i.id) }));
    const body = [
      metric(
        "claworc_instances",
        "gauge",
        "Instances by status.",
        countBy(instances, (i) => i.status).map(([k, n]) => [`status="${label(k)}"`, n]),
      ),
      metric(
        "claworc_ssh_connections",
        "gauge",
        "Instances by SSH connection state.",
        countBy(links, (l) => l.ssh.state).map(([k, n]) => [`state="${label(k)}"`, n]),
      ),
      metric(
        "claworc_ssh_tunnel_latency_ms",
        "gauge",
        "Latency of the last end-to-end tunnel probe.",
        links.flatMap(({ inst, ssh }) =>
          ssh.tunnels.filter((t) => t.last_latency_ms !== null).map((t): [string, number] => [
            `instance="${label(inst.name)}",tunnel="${label(t.label)}",status="${t.status}"`,
            t.last_latency_ms!,
          ])
        ),
      ),
      metric(
        "claworc_ssh_probe_latency_ms",
        "gauge",
        "Command probe latency over the last probes (up to 4096), by quantile.",
        [['quantile="0.5"', round(s.ssh.probeLatencies.quantile(0.5))], [
          'quantile="0.99"',
          round(s.ssh.probeLatencies.quantile(0.99)),
        ]],
      ),
      metric(
        "claworc_ssh_probe_overdue",
        "gauge",
        "Connected instances whose last good command probe is older than 1.5 probe periods.",
        [["", s.ssh.overdueProbes()]],
      ),
      metric(
        "claworc_event_loop_lag_ms",
        "gauge",
        "How late a 100 ms timer ran over the last minute, by quantile (0.99 and max).",
        [['quantile="0.99"', round(s.loopLag.samples.quantile(0.99))], [
          'quantile="max"',
          round(s.loopLag.samples.max()),
        ]],
      ),
      metric("process_resident_memory_bytes", "gauge", "Resident memory of this process.", [[
        "",
        Deno.memoryUsage().rss,
      ]]),
      metric(
        "claworc_ssh_events_total",
        "counter",
        "SSH events since start, by type (reconnecting, health_check_failed, ...).",
        [...s.sshEventCounts].map(([k, n]) => [`type="${label(k)}"`, n]),
      ),
      metric(
        "claworc_ssh_channels",
        "gauge",
        "SSH channels open now, by kind (exec, stream, pty = terminals, sftp, tunnel).",
        Object.entries(s.ssh.openChannels()).map(([k, n]) => [`kind="${k}"`, n]),
      ),
      metric(
        "claworc_http_requests_total",
        "counter",
        "HTTP requests answered since start, by method and status class.",
        [...s.requestCounts].map(([k, n]) => {
          const [method, code] = k.split(" ");
          return [`method="${method}",code="${code}"`, n];
        }),
      ),
      ...host.metrics.map((m) =>
        metric(
          m.name,
          m.type,
          m.help,
          m.samples().map(({ labels = {}, value }) => [
            Object.entries(labels).map(([k, v]) => `${k}="${label(v)}"`).join(","),
            value,
          ]),
        )
      ),
    ].join("\n\n") + "\n";
    return c.body(body, 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
  });
}
