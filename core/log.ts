/** A tiny structured logger: one JSON line per event on stderr. Never pass secrets in `fields`. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(scope: string): Logger;
}

/** Creates a logger that drops events below `level`. */
export function createLogger(
  level: LogLevel = "info",
  scope = "core",
  sink = (line: string) => console.error(line),
): Logger {
  const emit = (at: LogLevel) => (msg: string, fields: Record<string, unknown> = {}) => {
    if (ORDER[at] < ORDER[level]) return;
    sink(JSON.stringify({ time: new Date().toISOString(), level: at, scope, msg, ...fields }));
  };
  return {
    debug: emit("debug"),
    info: emit("info"),
    warn: emit("warn"),
    error: emit("error"),
    child: (name) => createLogger(level, `${scope}.${name}`, sink),
  };
}

/** A logger that discards everything (tests). */
export const silentLogger: Logger = createLogger("error", "silent", () => {});
