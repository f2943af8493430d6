import { useState } from "preact/hooks";
import { api, errorText, useHydrated } from "./_api.ts";
import { type LiveInstance, type LiveOperation, useLiveEvents } from "./_live.ts";

export interface DashboardInstance extends LiveInstance {
  assigned_users: string[];
  /** The SSH connection's state (connected, reconnecting, ...), pushed live. */
  ssh_state?: string;
}

type Action = "start" | "stop" | "restart" | "clone" | "delete";

/**
 * The instances table with live status (pushed by the server), the step a creation is at, and the
 * actions each caller may take: start/stop/restart for anyone with access; clone, delete (after a
 * confirmation) and the assignments column for admins.
 */
export default function InstancesDashboard(
  { instances, isAdmin, operations = [] }: {
    instances: DashboardInstance[];
    isAdmin: boolean;
    /** Operations running when the page was rendered; later ones arrive pushed. */
    operations?: LiveOperation[];
  },
) {
  const ready = useHydrated();
  const [rows, setRows] = useState(instances);
  const [ops, setOps] = useState<Record<number, LiveOperation>>(
    Object.fromEntries(operations.map((op) => [op.instance_id, op])),
  );
  const [busy, setBusy] = useState<Record<number, Action>>({});
  const [confirm, setConfirm] = useState<number | null>(null);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);

  useLiveEvents({
    // Whatever changed while the stream was not connected: the list as it is now, SSH states included.
    ready: () =>
      api<DashboardInstance[]>("GET", "/api/v1/instances").then(setRows, () => {/* the stream's events still come */}),
    instance: (i) =>
      setRows((rs) => {
        const known = rs.some((r) => r.id === i.id);
        if (known) return rs.map((r) => (r.id === i.id ? { ...r, ...i } : r));
        return [...rs, { assigned_users: [], ...i }];
      }),
    operation: (op) => setOps((o) => ({ ...o, [op.instance_id]: op })),
    ssh: (e) => e.state && setRows((rs) => rs.map((r) => (r.id === e.instance_id ? { ...r, ssh_state: e.state! } : r))),
    deleted: (id) => setRows((rs) => rs.filter((r) => r.id !== id)),
  });

  /** Moves a row up or down (admins); the server keeps the order for everyone. */
  async function move(index: number, by: -1 | 1) {
    const order = rows.map((r) => r.id);
    const [id] = order.splice(index, 1);
    order.splice(index + by, 0, id);
    setMessage(null);
    try {
      await api("PUT", "/api/v1/instances/reorder", { instance_ids: order });
      setRows((rs) => order.map((i) => rs.find((r) => r.id === i)!));
    } catch (e) {
      setMessage({ ok: false, text: errorText(e) });
    }
  }

  async function act(row: DashboardInstance, action: Action) {
    setBusy((b) => ({ ...b, [row.id]: action }));
    setMessage(null);
    setConfirm(null);
    try {
      if (action === "delete") {
        await api("DELETE", `/api/v1/instances/${row.id}`);
        setRows((rs) => rs.filter((r) => r.id !== row.id));
        setMessage({ ok: true, text: `${row.display_name} deleted.` });
      } else if (action === "clone") {
        const copy = await api<DashboardInstance>("POST", `/api/v1/instances/${row.id}/clone`);
        setRows((rs) => (rs.some((r) => r.id === copy.id) ? rs : [...rs, copy]));
        setMessage({ ok: true, text: `Cloning ${row.display_name} as ${copy.display_name}.` });
      } else {
        const r = await api<{ status: string }>("POST", `/api/v1/instances/${row.id}/${action}`);
        setRows((rs) => rs.map((x) => (x.id === row.id ? { ...x, status: r.status, status_reason: "" } : x)));
      }
    } catch (e) {
      setMessage({ ok: false, text: `${row.display_name}: ${errorText(e)}` });
    } finally {
      setBusy((b) => {
        const { [row.id]: _, ...rest } = b;
        return rest;
      });
    }
  }

  if (rows.length === 0) {
    return (
      <div class="empty" data-testid="no-instances">
        <p>No instances yet.</p>
        <p class="muted">
          {isAdmin
            ? "Create one with New instance (a runtime backend, Docker or Kubernetes, must be configured)."
            : "An administrator has not assigned any instance to you yet."}
        </p>
      </div>
    );
  }

  return (
    <div class="stack">
      {message && <p role={message.ok ? "status" : "alert"} data-testid="dashboard-message">{message.text}</p>}
      <div class="table-wrap">
        <table class="data" data-testid="instances-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Status</th>
              <th>SSH</th>
              <th>Resources</th>
              {isAdmin && <th>Assigned to</th>}
              <th>Actions</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r, index) => {
              const op = ops[r.id];
              const running = op?.state === "running" ? op.steps.find((s) => s.state === "running") : undefined;
              const off = !ready || Boolean(busy[r.id]) || r.status === "creating" || Boolean(running);
              return (
                <tr key={r.id} data-testid={`instance-row-${r.name}`}>
                  <td>
                    <a href={`/instances/${r.id}`} data-testid={`instance-link-${r.name}`}>{r.display_name}</a>{" "}
                    <span class="muted mono">{r.name}</span>
                  </td>
                  <td>
                    <span class={`badge instance-${r.status}`} data-testid="instance-status">{r.status}</span>
                    {running && <span class="muted step-now" data-testid="instance-step">{running.label}…</span>}
                    {r.status_reason && <p class="hint" data-testid="instance-reason">{r.status_reason}</p>}
                  </td>
                  <td>
                    <span class={`badge ssh-${r.ssh_state ?? "disconnected"}`} data-testid="instance-ssh">
                      {r.ssh_state ?? "disconnected"}
                    </span>
                  </td>
                  <td class="muted">{r.cpu_limit && `${r.cpu_limit} CPU · ${r.memory_limit}`}</td>
                  {isAdmin && (
                    <td data-testid="instance-assigned">
                      {r.assigned_users.length ? r.assigned_users.join(", ") : <span class="muted">admins only</span>}
                    </td>
                  )}
                  <td>
                    <div class="row wrap">
                      {isAdmin && (
                        <span class="row" data-testid="row-order">
                          <button
                            type="button"
                            class="icon"
                            disabled={!ready || index === 0}
                            onClick={() => move(index, -1)}
                            aria-label={`Move ${r.display_name} up`}
                            data-testid="row-up"
                          >
                            ↑
                          </button>
                          <button
                            type="button"
                            class="icon"
                            disabled={!ready || index === rows.length - 1}
                            onClick={() => move(index, 1)}
                            aria-label={`Move ${r.display_name} down`}
                            data-testid="row-down"
                          >
                            ↓
                          </button>
                        </span>
                      )}
                      {r.status === "running"
                        ? (
                          <>
                            <button type="button" disabled={off} onClick={() => act(r, "stop")} data-testid="row-stop">
                              {busy[r.id] === "stop" ? "Stopping…" : "Stop"}
                            </button>
                            <button
                              type="button"
                              disabled={off}
                              onClick={() => act(r, "restart")}
                              data-testid="row-restart"
                            >
                              {busy[r.id] === "restart" ? "Restarting…" : "Restart"}
                            </button>
                          </>
                        )
                        : (
                          <button type="button" disabled={off} onClick={() => act(r, "start")} data-testid="row-start">
                            {busy[r.id] === "start" ? "Starting…" : "Start"}
                          </button>
                        )}
                      {isAdmin && (
                        <button
                          type="button"
                          disabled={off}
                          onClick={() => act(r, "clone")}
                          data-testid="row-clone"
                        >
                          {busy[r.id] === "clone" ? "Cloning…" : "Clone"}
                        </button>
                      )}
                      {isAdmin && confirm !== r.id && (
                        <button
                          type="button"
                          class="danger"
                          disabled={off && r.status !== "error"}
                          onClick={() => setConfirm(r.id)}
                          data-testid="row-delete"
                        >
                          Delete
                        </button>
                      )}
                      {isAdmin && confirm === r.id && (
                        <span class="row">
                          <span>Delete it and all its data?</span>
                          <button
                            type="button"
                            class="danger"
                            onClick={() => act(r, "delete")}
                            data-testid="row-delete-confirm"
                          >
                            {busy[r.id] === "delete" ? "Deleting…" : "Yes, delete"}
                          </button>
                          <button type="button" onClick={() => setConfirm(null)}>Cancel</button>
                        </span>
                      )}
                    </div>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </div>
  );
}
