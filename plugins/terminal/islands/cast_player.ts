/** A parsed asciicast v2 recording: its size and its events with the times they are played at. */
export interface Cast {
  width: number;
  height: number;
  title: string;
  /** `[seconds to play at, code, data]`, in order; long idle gaps already shortened. */
  events: [number, string, string][];
  /** Play time of the last event, in seconds. */
  duration: number;
}

/**
 * Parses an asciicast v2 file. Lines that are not events (a partial last line of a recording still
 * being written, say) are skipped; gaps between events longer than `maxIdle` seconds are shortened
 * to it, as asciinema's `idle_time_limit` does. Throws when the header is not asciicast v2.
 */
export function parseCast(text: string, maxIdle = Infinity): Cast {
  const lines = text.split("\n");
  let header: { version?: unknown; width?: unknown; height?: unknown; title?: unknown };
  try {
    header = JSON.parse(lines[0]);
  } catch {
    throw new Error("Not an asciicast file.");
  }
  if (header?.version !== 2) throw new Error("Not an asciicast v2 file.");
  const events: [number, string, string][] = [];
  let last = 0;
  let at = 0;
  for (const line of lines.slice(1)) {
    if (!line.startsWith("[")) continue;
    let e: unknown;
    try {
      e = JSON.parse(line);
    } catch {
      continue;
    }
    if (!Array.isArray(e) || typeof e[0] !== "number" || typeof e[1] !== "string" || typeof e[2] !== "string") {
      continue;
    }
    at += Math.min(Math.max(0, e[0] - last), maxIdle);
    last = Math.max(last, e[0]);
    events.push([at, e[1], e[2]]);
  }
  const size = (v: unknown, d: number) => (typeof v === "number" && v > 0 ? Math.min(Math.round(v), 1000) : d);
  return {
    width: size(header.width, 80),
    height: size(header.height, 24),
    title: typeof header.title === "string" ? header.title : "",
    events,
    duration: events.at(-1)?.[0] ?? 0,
  };
}

/** Where a player sends what it plays (an xterm.js terminal in the page). */
export interface CastScreen {
  write(text: string): void;
  resize(cols: number, rows: number): void;
  reset(): void;
}

/** Injectable time, so the player is testable without waiting. */
export interface PlayerTimers {
  now(): number;
  setTimeout(fn: () => void, ms: number): number;
  clearTimeout(id: number): void;
}

const realTimers: PlayerTimers = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms) as unknown as number,
  clearTimeout: (id) => clearTimeout(id),
};

export type PlayerState = "paused" | "playing" | "ended";

/**
 * Plays a cast onto a screen with its timing: play, pause (keeps the position), speed (1×, 2×, 4×,
 * changed while playing too), and play again from the start after the end.
 */
export class CastPlayer {
  #next = 0;
  /** Cast time (s) at `#since` (ms of the timers' clock). */
  #base = 0;
  #since = 0;
  #timer: number | undefined;
  #speed = 1;
  state: PlayerState = "paused";

  constructor(
    private readonly cast: Cast,
    private readonly screen: CastScreen,
    private readonly onChange: (state: PlayerState, position: number) => void = () => {},
    private readonly timers: PlayerTimers = realTimers,
  ) {
    screen.resize(cast.width, cast.height);
  }

  get speed(): number {
    return this.#speed;
  }

  /** Where playback is, in cast seconds. */
  get position(): number {
    if (this.state !== "playing") return this.#base;
    return Math.min(this.cast.duration, this.#base + (this.timers.now() - this.#since) / 1000 * this.#speed);
  }

  play(): void {
    if (this.state === "playing") return;
    if (this.state === "ended") {
      this.screen.reset();
      this.screen.resize(this.cast.width, this.cast.height);
      this.#next = 0;
      this.#base = 0;
    }
    this.state = "playing";
    this.#since = this.timers.now();
    this.#tick();
  }

  pause(): void {
    if (this.state !== "playing") return;
    this.#base = this.position;
    this.state = "paused";
    this.#clear();
    this.onChange(this.state, this.#base);
  }

  setSpeed(speed: number): void {
    if (!(speed > 0)) return;
    if (this.state === "playing") {
      this.#base = this.position;
      this.#since = this.timers.now();
    }
    this.#speed = speed;
    if (this.state === "playing") {
      this.#clear();
      this.#tick();
    }
  }

  /** Stops for good (the view is going away). */
  stop(): void {
    this.#clear();
    this.state = "paused";
  }

  #tick(): void {
    this.#timer = undefined;
    const now = this.position;
    const events = this.cast.events;
    let text = "";
    while (this.#next < events.length && events[this.#next][0] <= now) {
      const [, code, data] = events[this.#next++];
      if (code === "o") text += data;
      else if (code === "r") {
        if (text) this.screen.write(text);
        text = "";
        const m = /^(\d+)x(\d+)$/.exec(data);
        if (m) this.screen.resize(Number(m[1]), Number(m[2]));
      }
    }
    if (text) this.screen.write(text);
    if (this.#next >= events.length) {
      this.#base = this.cast.duration;
      this.state = "ended";
      this.onChange(this.state, this.#base);
      return;
    }
    this.onChange(this.state, now);
    const wait = (events[this.#next][0] - now) / this.#speed * 1000;
    this.#timer = this.timers.setTimeout(() => this.#tick(), Math.max(0, wait));
  }

  #clear(): void {
    if (this.#timer !== undefined) this.timers.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
