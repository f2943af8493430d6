import { useState } from "preact/hooks";
import { api, errorText, useHydrated } from "./_api.ts";
import { type LiveOperation, useLiveEvents } from "./_live.ts";
import { OperationSteps } from "./_operation_steps.tsx";

/**
 * One instance's live status and actions: start, stop, restart (anyone with access); redeploy and
 * delete (admins, delete after a confirmation). A running operation's steps show as they happen.
 */
export default function InstanceActions(
  { id, status, reason, operation, canDelete }: {
    id: number;
    status: string;
    reason: string;
    operation: LiveOperation | null;
    canDelete: boolean;
  },
) {
  const ready = useHydrated();
  const [current, setCurrent] = useState(status);
  const [why, setWhy] = useState(reason);
  const [op, setOp] = useState(operation);
  const [busy, setBusy] = useState("");
  const [confirming, setConfirming] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);

  useLiveEvents({
    // A status change missed while the stream was not connected: the instance as it is now.
    ready: () =>
      api<{ status: string; status_reason: string }>("GET", `/api/v1/instances/${id}`).then((i) => {
        setCurrent(i.status);
        setWhy(i.status_reason);
      }, () => {/* pushed changes still come */}),
    instance: (i) => {
      if (i.id !== id) return;
      setCurrent(i.status);
      setWhy(i.status_reason);
    },
    operation: (o) => o.instance_id === id && setOp(o),
    deleted: (gone) => gone === id && (location.href = "/"),
  }, [id]);

  async function redeploy() {
    setBusy("redeploy");
    setMessage(null);
    try {
      const r = await api<{ status: string; operation: LiveOperation }>(
        "POST",
        `/api/v1/instances/${id}/update-image`,
        {},
      );
      setCurrent(r.status);
      setOp(r.operation);
    } catch (e) {
      setMessage({ ok: false, text: errorText(e) });
    } finally {
      setBusy("");
    }
  }

  async function act(action: "start" | "stop" | "restart") {
    setBusy(action);
    setMessage(null);
    try {
      const r = await api<{ status: string }>("POST", `/api/v1/instances/${id}/${action}`);
      setCurrent(r.status);
      setMessage({ ok: true, text: `Instance ${action === "stop" ? "stopped" : r.status}.` });
    } catch (e) {
      setMessage({ ok: false, text: errorText(e) });
    } finally {
      setBusy("");
    }
  }

  async function remove() {
    setBusy("delete");
    try {
      await api("DELETE", `/api/v1/instances/${id}`);
      location.href = "/";
    } catch (e) {
      setMessage({ ok: false, text: errorText(e) });
      setBusy("");
    }
  }

  const off = !ready || busy !== "" || current === "creating" || op?.state === "running";
  return (
    <div class="stack">
      <div class="row wrap">
        <button
          type="button"
          disabled={off || current === "running"}
          onClick={() => act("start")}
          data-testid="instance-start"
        >
          {busy === "start" ? "Starting…" : "Start"}
        </button>
        <button
          type="button"
          disabled={off || current !== "running"}
          onClick={() => act("stop")}
          data-testid="instance-stop"
        >
          {busy === "stop" ? "Stopping…" : "Stop"}
        </button>
        <button
          type="button"
          disabled={off || current !== "running"}
          onClick={() => act("restart")}
          data-testid="instance-restart"
        >
          {busy === "restart" ? "Restarting…" : "Restart"}
        </button>
        {canDelete && (
          <button type="button" disabled={off} onClick={redeploy} data-testid="instance-redeploy">
            {busy === "redeploy" ? "Redeploying…" : "Redeploy"}
          </button>
        )}
        {canDelete && !confirming && (
          <button
            type="button"
            class="danger"
            disabled={off && current !== "error"}
            onClick={() => setConfirming(true)}
            data-testid="instance-delete"
          >
            Delete
          </button>
        )}
        {canDelete && confirming && (
          <span class="row">
            <span>Delete the instance and all its data?</span>
            <button
              type="button"
              class="danger"
              disabled={off && current !== "error"}
              onClick={remove}
              data-testid="instance-delete-confirm"
            >
              {busy === "delete" ? "Deleting…" : "Yes, delete"}
            </button>
            <button type="button" disabled={off} onClick={() => setConfirming(false)}>Cancel</button>
          </span>
        )}
      </div>
      <p class="hint">
        Status: <span class={`badge instance-${current}`} data-testid="instance-current-status">{current}</span>
        {why && <span data-testid="instance-current-reason">{why}</span>}
      </p>
      {op && (op.state !== "succeeded" || op.kind !== "resume") && <OperationSteps op={op} />}
      {message && <p role={message.ok ? "status" : "alert"} data-testid="instance-action-result">{message.text}</p>}
    </div>
  );
}
