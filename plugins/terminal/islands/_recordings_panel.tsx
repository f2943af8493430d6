import { useEffect, useState } from "preact/hooks";
import { api, errorText } from "../../../islands/_api.ts";
import { CastPlayerView } from "./_cast_player_view.tsx";

/** One recording as `GET .../terminal/recordings` lists it. */
export interface RecordingRow {
  id: string;
  session_id: string;
  user: string | null;
  started_at: string;
  bytes: number;
  duration_s: number;
  active: boolean;
}

/**
 * The instance's terminal recordings (the caller's own; an admin's view has everyone's): play one in
 * the page, download it as an asciicast file, delete it. Reloaded when opened, on demand and when
 * `refreshKey` changes (a terminal attached).
 */
export function RecordingsPanel({ instanceId, refreshKey }: { instanceId: number; refreshKey: number }) {
  const [open, setOpen] = useState(false);
  const [rows, setRows] = useState<RecordingRow[] | null>(null);
  const [playing, setPlaying] = useState<RecordingRow | null>(null);
  const [error, setError] = useState("");
  const base = `/api/v1/instances/${instanceId}/terminal/recordings`;

  const load = async () => {
    try {
      setRows((await api<{ recordings: RecordingRow[] }>("GET", base)).recordings);
      setError("");
    } catch (e) {
      setError(errorText(e));
    }
  };
  useEffect(() => {
    if (open) void load();
  }, [open, refreshKey]);

  const remove = async (r: RecordingRow) => {
    if (!confirm(`Delete the recording of session "${r.session_id}" from ${when(r.started_at)}?`)) return;
    try {
      await api("DELETE", `${base}/${r.id}`);
      if (playing?.id === r.id) setPlaying(null);
    } catch (e) {
      setError(errorText(e));
    }
    await load();
  };

  return (
    <details
      class="terminal-recordings"
      data-testid="recordings"
      onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}
    >
      <summary>Recordings</summary>
      <div class="stack">
        <div class="row">
          <button type="button" onClick={load} data-testid="recordings-refresh">Refresh</button>
          <span class="hint">Terminal output only (typed input is not recorded), kept as asciicast v2 files.</span>
        </div>
        {error && <p class="error" role="alert">{error}</p>}
        {rows && rows.length === 0 && <p class="muted" data-testid="recordings-empty">No recordings.</p>}
        {rows && rows.length > 0 && (
          <div class="table-wrap">
            <table class="data">
              <thead>
                <tr>
                  <th scope="col">Started (UTC)</th>
                  <th scope="col">Session</th>
                  <th scope="col">User</th>
                  <th scope="col">Length</th>
                  <th scope="col">Size</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={r.id} data-testid="recording-row" data-id={r.id}>
                    <td class="nowrap">
                      <time dateTime={r.started_at}>{when(r.started_at)}</time>
                      {r.active && <span class="muted">(recording)</span>}
                    </td>
                    <td class="mono">{r.session_id}</td>
                    <td>{r.user ?? "?"}</td>
                    <td class="nowrap">{r.duration_s.toFixed(1)} s</td>
                    <td class="nowrap">{size(r.bytes)}</td>
                    <td class="actions-cell">
                      <div class="row">
                        <button type="button" onClick={() => setPlaying(r)} data-testid="recording-play">Play</button>
                        <a href={`${base}/${r.id}`} download={`${r.id}.cast`} data-testid="recording-download">
                          Download
                        </a>
                        <button type="button" class="danger" onClick={() => remove(r)} data-testid="recording-delete">
                          Delete
                        </button>
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {playing && (
          <CastPlayerView
            key={playing.id}
            url={`${base}/${playing.id}`}
            title={`Session ${playing.session_id}, ${playing.user ?? "?"}, ${when(playing.started_at)}`}
            onClose={() => setPlaying(null)}
          />
        )}
      </div>
    </details>
  );
}

function when(iso: string): string {
  return iso.replace("T", " ").slice(0, 19);
}

function size(n: number): string {
  return n < 1024 ? `${n} B` : n < 1 << 20 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / (1 << 20)).toFixed(1)} MiB`;
}
