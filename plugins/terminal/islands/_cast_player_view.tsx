import { useEffect, useRef, useState } from "preact/hooks";
import { errorText } from "../../../islands/_api.ts";
import { mirrorStyles } from "./adopted_styles.ts";
import { CastPlayer, parseCast, type PlayerState } from "./cast_player.ts";

/** Idle gaps longer than this (seconds) are shortened when playing, as asciinema's idle limit does. */
const MAX_IDLE_S = 3;
const SPEEDS = [1, 2, 4];

/** Replays one recording (fetched from `url`) in its own read-only xterm.js terminal with its timing. */
export function CastPlayerView({ url, title, onClose }: { url: string; title: string; onClose(): void }) {
  const box = useRef<HTMLDivElement>(null);
  const frame = useRef<HTMLDivElement>(null);
  const playerRef = useRef<CastPlayer | null>(null);
  const [state, setState] = useState<PlayerState | "loading">("loading");
  const [position, setPosition] = useState(0);
  const [duration, setDuration] = useState(0);
  const [speed, setSpeed] = useState(1);
  const [error, setError] = useState("");

  useEffect(() => {
    let disposed = false;
    let cleanup = () => {};
    (async () => {
      const res = await fetch(url, { credentials: "same-origin" });
      if (!res.ok) throw new Error(`Could not load the recording (${res.status}).`);
      const cast = parseCast(await res.text(), MAX_IDLE_S);
      const { Terminal } = await import("@xterm/xterm");
      if (disposed || !box.current) return;
      const term = new Terminal({ cols: cast.width, rows: cast.height, disableStdin: true, scrollback: 5_000 });
      const unmirror = mirrorStyles(box.current);
      term.open(box.current);
      // xterm.js draws only while on screen; the player opens below the terminal.
      frame.current?.scrollIntoView({ block: "nearest" });
      const player = new CastPlayer(cast, {
        write: (text) => term.write(text),
        resize: (cols, rows) => term.resize(cols, rows),
        reset: () => term.reset(),
      }, (s, at) => {
        setState(s);
        setPosition(at);
      });
      playerRef.current = player;
      setDuration(cast.duration);
      player.play();
      cleanup = () => {
        player.stop();
        term.dispose();
        unmirror();
      };
    })().catch((e) => setError(errorText(e)));
    return () => {
      disposed = true;
      cleanup();
      playerRef.current = null;
    };
  }, [url]);

  const toggle = () => {
    const p = playerRef.current;
    if (!p) return;
    if (p.state === "playing") p.pause();
    else p.play();
  };
  const changeSpeed = (n: number) => {
    setSpeed(n);
    playerRef.current?.setSpeed(n);
  };

  return (
    <div class="cast-player stack" ref={frame} data-testid="cast-player">
      <div class="row wrap">
        <strong class="grow">{title}</strong>
        <button type="button" onClick={toggle} disabled={state === "loading"} data-testid="cast-toggle">
          {state === "playing" ? "Pause" : state === "ended" ? "Replay" : "Play"}
        </button>
        <label class="check">
          Speed
          <select
            value={String(speed)}
            onChange={(e) => changeSpeed(Number(e.currentTarget.value))}
            data-testid="cast-speed"
          >
            {SPEEDS.map((n) => <option key={n} value={String(n)}>{n}×</option>)}
          </select>
        </label>
        <span class="muted" data-testid="cast-state" data-state={state}>
          {state === "loading" ? "Loading…" : `${position.toFixed(1)} / ${duration.toFixed(1)} s`}
        </span>
        <button type="button" onClick={onClose}>Close</button>
      </div>
      {error && <p class="error" role="alert">{error}</p>}
      <div class="terminal-box cast-box" ref={box} data-testid="cast-screen" />
    </div>
  );
}
