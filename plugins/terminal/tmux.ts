import { SIZE_LIMITS } from "./options.ts";

/**
 * Shell commands run over SSH (as the agent user) to drive the plugin's own tmux server
 * (`tmux -L claworc`, so the agent's own tmux sessions are neither listed nor touched).
 * Session names come from `names.ts` (a fixed safe alphabet) and numbers are integers, so quoting
 * with single quotes is enough.
 */
export const TMUX = "tmux -u -L claworc";

/** Global options set whenever a session is made: no status bar, no alternate screen (so the browser keeps scrollback). */
function serverOptions(historyLines: number): string {
  return [
    `set -g history-limit ${int(historyLines)}`,
    "set -g status off",
    "set -g escape-time 0",
    "set -g window-size latest",
    "set -g aggressive-resize on",
    "set -ga terminal-overrides ',xterm*:smcup@:rmcup@'",
  ].map((c) => ` \\; ${c}`).join("");
}

/**
 * Prepares session `name` for user `ownerId`. Prints `created`, or `owner <id>` of an existing
 * session followed, when the caller owns it, by its last `replayLines` lines of history and screen
 * (`capture-pane -e`: whole lines with their colours, never a cut escape sequence).
 */
export function prepareCommand(
  name: string,
  ownerId: number,
  size: { cols: number; rows: number },
  opts: { historyLines: number; replayLines: number },
): string {
  const t = `'=${name}'`;
  /** Pane targets (options, capture) need the window part, or `=name` is not read as an exact session. */
  const p = `'=${name}:'`;
  const { cols, rows } = clampSize(size.cols, size.rows);
  return [
    `if ${TMUX} has-session -t ${t} 2>/dev/null; then`,
    `  o=$(${TMUX} show-options -qv -t ${p} @claworc_owner); echo "owner $o";`,
    `  if [ "$o" = '${int(ownerId)}' ]; then ${TMUX} capture-pane -p -e -S -${int(opts.replayLines)} -t ${p}; fi;`,
    `else`,
    `  ${TMUX} start-server${serverOptions(opts.historyLines)} \\; new-session -d -s '${name}' -x ${cols} -y ${rows}` +
    ` \\; set-option @claworc_owner '${int(ownerId)}' >/dev/null && echo created;`,
    `fi`,
  ].join("\n");
}

/** The command of the PTY channel: attaches to the session (exits when it ends or is detached). */
export function attachCommand(name: string): string {
  return `exec ${TMUX} attach-session -t '=${name}'`;
}

/** Records when the last browser left a session (the reaper counts from then). */
export function markDetachedCommand(name: string): string {
  return `${TMUX} set-option -q -t '=${name}:' @claworc_detached_at "$(date +%s)" 2>/dev/null; true`;
}

/** Closes a session (exit 0 also when it is already gone). */
export function killCommand(name: string): string {
  return `${TMUX} kill-session -t '=${name}' 2>/dev/null; true`;
}

/** Field separator of `listCommand`'s output (a tab). */
const SEP = "\t";

/** Lists every session of the plugin's tmux server (nothing when the server is not running). */
export function listCommand(): string {
  const fields = [
    "#{session_name}",
    "#{@claworc_owner}",
    "#{session_attached}",
    "#{session_created}",
    "#{session_activity}",
    "#{@claworc_detached_at}",
  ];
  return `${TMUX} list-sessions -F '${fields.join(SEP)}' 2>/dev/null; true`;
}

/** One row of `listCommand`'s output. */
export interface TmuxSession {
  name: string;
  /** The owning user's id (null when the option is missing). */
  ownerId: number | null;
  attached: number;
  /** Unix seconds. */
  created: number;
  lastActivity: number;
  /** When the last browser left (Unix seconds), null when never recorded. */
  detachedAt: number | null;
}

/** Parses `listCommand`'s output. */
export function parseList(stdout: string): TmuxSession[] {
  const out: TmuxSession[] = [];
  for (const line of stdout.split("\n")) {
    const f = line.split(SEP);
    if (f.length !== 6 || !f[0]) continue;
    const num = (s: string) => (/^\d+$/.test(s) ? Number(s) : null);
    out.push({
      name: f[0],
      ownerId: num(f[1]),
      attached: num(f[2]) ?? 0,
      created: num(f[3]) ?? 0,
      lastActivity: num(f[4]) ?? 0,
      detachedAt: num(f[5]),
    });
  }
  return out;
}

/** Clamps a terminal size to `SIZE_LIMITS` (non-numbers become 80×24). */
export function clampSize(cols: unknown, rows: unknown): { cols: number; rows: number } {
  const clamp = (v: unknown, min: number, max: number, dflt: number) =>
    typeof v === "number" && Number.isFinite(v) ? Math.min(max, Math.max(min, Math.round(v))) : dflt;
  return {
    cols: clamp(cols, SIZE_LIMITS.minCols, SIZE_LIMITS.maxCols, 80),
    rows: clamp(rows, SIZE_LIMITS.minRows, SIZE_LIMITS.maxRows, 24),
  };
}

function int(n: number): number {
  if (!Number.isSafeInteger(n)) throw new Error(`not an integer: ${n}`);
  return n;
}
