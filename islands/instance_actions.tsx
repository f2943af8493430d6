import { useEffect, useState } from "preact/hooks";
import { api, errorText, useHydrated } from "./_api.ts";

/** Start, stop, restart (anyone with access) and delete (admins, after a confirmation) one instance. */
export default function InstanceActions({ id, status, canDelete }: { id: number; status: string; canDelete: boolean }) {
  const ready = useHydrated();
  const [current, setCurrent] = useState(status);
  const [busy, setBusy] = useState("");
  const [confirming, setConfirming] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);

  // Follow the status while the page is open (creation finishes in the background).
  useEffect(() => {
    const refresh = () => {
      if (document.visibilityState !== "visible") return;
      api<{ status: string }>("GET", `/api/v1/instances/${id}`).then((r) => setCurrent(r.status), () => {});
    };
    const timer = setInterval(refresh, 2_000);
    return () => clearInterval(timer);
  }, [id]);

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

  const off = !ready || busy !== "" || current === "creating";
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
        {canDelete && !confirming && (
          <button
            type="button"
            class="danger"
            disabled={off}
            onClick={() => setConfirming(true)}
            data-testid="instance-delete"
          >
            Delete
          </button>
        )}
        {canDelete && confirming && (
          <span class="row">
            <span>Delete the instance and all its data?</span>
            <button type="button" class="danger" disabled={off} onClick={remove} data-testid="instance-delete-confirm">
              {busy === "delete" ? "Deleting…" : "Yes, delete"}
            </button>
            <button type="button" disabled={off} onClick={() => setConfirming(false)}>Cancel</button>
          </span>
        )}
      </div>
      <p class="hint">
        Status: <span data-testid="instance-current-status">{current}</span>
      </p>
      {message && <p role={message.ok ? "status" : "alert"} data-testid="instance-action-result">{message.text}</p>}
    </div>
  );
}
