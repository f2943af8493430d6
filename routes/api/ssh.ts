import { z } from "zod";
import { actorOf } from "../../core/audit/actor.ts";
import { numericParam, type Router } from "../../core/http/router.ts";
import type { CoreServices } from "../../core/services.ts";
import { parseSourceIps } from "../../core/ssh/source_ips.ts";
import { eventForApi } from "../../core/ssh/events.ts";

const sourceIpsBody = z.object({ allowed_source_ips: z.array(z.string().max(64)).max(100) });

/** SSH visibility and control per instance (parity with the reference's §2.3), and the global key. */
export function sshRoutes(api: Router, s: CoreServices): void {
  const tags = ["ssh"];
  api.add({
    method: "GET",
    path: "/ssh-fingerprint",
    permission: "authenticated",
    summary: "The control plane's SSH public key and fingerprint",
    tags,
  }, (c) => c.json({ fingerprint: s.sshKeys.fingerprint(), public_key: s.sshKeys.publicKey }));

  const r = api.scope("/instances/:id");
  const instanceId = (c: Parameters<typeof numericParam>[0]) => s.instances.get(numericParam(c, "id")).id;
  /**
   * Why the instance must not be dialled now, or null. A connection opened on demand makes the pool
   * keep the instance connected, so dialling a stopped (or stopping, or vanishing) instance would leave
   * it retrying in the background and counted as active (e.g. by key rotation) until it next starts.
   */
  const notDiallable = (id: number): string | null => {
    const busy = s.lifecycle.busy(id);
    if (busy === "stopping" || busy === "being deleted") return `Instance ${id} is ${busy}.`;
    return s.instances.get(id).status === "stopped" ? `Instance ${id} is stopped; start it first.` : null;
  };

  r.add({
    method: "GET",
    path: "/ssh-status",
    permission: "instance",
    summary: "SSH state, metrics, tunnels and recent transitions",
    tags,
  }, (c) => c.json(s.ssh.status(instanceId(c))));

  r.add({
    method: "GET",
    path: "/ssh-events",
    permission: "instance",
    summary: "The last 100 SSH events, oldest first",
    tags,
  }, (c) => {
    return c.json({ events: s.sshEvents.list(instanceId(c), 100).map(eventForApi) });
  });

  r.add({
    method: "GET",
    path: "/tunnels",
    permission: "instance",
    summary: "Named tunnel targets and their end-to-end health",
    tags,
  }, (c) => c.json({ tunnels: s.ssh.status(instanceId(c)).tunnels }));

  r.add({
    method: "GET",
    path: "/ssh-test",
    permission: "instance",
    summary: "Run a test command over SSH (audited)",
    tags,
  }, async (c) => {
    const id = instanceId(c);
    const started = performance.now();
    let result: { status: "ok" | "error"; output: string; error: string };
    const refused = notDiallable(id);
    if (refused) {
      result = { status: "error", output: "", error: refused };
    } else {
      try {
        const r = await s.ssh.exec(id, "echo ok", { timeoutMs: 10_000, maxOutput: 4096 });
        result = {
          status: r.code === 0 ? "ok" : "error",
          output: r.stdout.trim(),
          error: r.code === 0 ? "" : r.stderr.trim(),
        };
      } catch (e) {
        result = { status: "error", output: "", error: (e as Error).message };
      }
    }
    const latency_ms = Math.round(performance.now() - started);
    s.audit.record({
      actor: actorOf(c),
      action: "ssh.test",
      target: `instance:${id}`,
      instanceId: id,
      outcome: result.status === "ok" ? "success" : "failure",
      details: { latency_ms },
    });
    return c.json({ ...result, latency_ms });
  });

  r.add({
    method: "POST",
    path: "/ssh-reconnect",
    permission: "instance",
    summary: "Drop and re-establish the SSH connection now (audited)",
    tags,
  }, async (c) => {
    const id = instanceId(c);
    const refused = notDiallable(id);
    const result = refused ? { status: "error" as const, latency_ms: 0, error: refused } : await s.ssh.reconnect(id);
    s.audit.record({
      actor: actorOf(c),
      action: "ssh.manual_reconnect",
      target: `instance:${id}`,
      instanceId: id,
      outcome: result.status === "ok" ? "success" : "failure",
      details: { latency_ms: result.latency_ms },
    });
    return c.json(result);
  });

  r.add({
    method: "GET",
    path: "/allowed-source-ips",
    permission: "admin",
    summary: "The instance's SSH source-IP allow-list (empty: any address)",
    tags,
  }, (c) => c.json({ allowed_source_ips: s.instances.sourceIps(instanceId(c)) }));

  r.add({
    method: "PUT",
    path: "/allowed-source-ips",
    permission: "admin",
    summary: "Set the instance's SSH source-IP allow-list (IPs and CIDRs)",
    body: sourceIpsBody,
    tags,
  }, async (c, { body }) => {
    const id = instanceId(c);
    const list = parseSourceIps(body.allowed_source_ips);
    const before = s.instances.sourceIps(id);
    s.instances.setSourceIps(id, list);
    // sshd enforces the list through from= on the key line; the pool refuses before connecting.
    let applied = false;
    try {
      applied = await s.keyRotation.refreshLine(id);
    } catch (e) {
      s.log.warn("could not update the instance's authorized key line", { instance: id, error: (e as Error).message });
    }
    s.ssh.revalidateSourceIps(id);
    s.audit.record({
      actor: actorOf(c),
      action: "instance.source_ips_change",
      target: `instance:${id}`,
      instanceId: id,
      details: { from: before, to: list, applied_to_instance: applied },
    });
    return c.json({ allowed_source_ips: list, applied_to_instance: applied });
  });
}
