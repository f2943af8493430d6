/**
 * The log types an instance offers: a fixed allow-list, each mapped to a fixed place. Clients name a
 * type, never a path, so nothing they send reaches the command run on the instance.
 */

/** Where a type's lines come from. */
export type LogSource =
  /** A file inside the instance, read with `tail -F` over SSH. */
  | { kind: "file"; path: string }
  /** The container's console (init and supervisord output), read from the runtime backend. */
  | { kind: "container" };

export interface LogType {
  id: string;
  label: string;
  source: LogSource;
}

/** supervisord writes every program's output to `/var/log/claworc/<program>.log` (agent image). */
const program = (id: string, label: string): LogType => ({
  id,
  label,
  source: { kind: "file", path: `/var/log/claworc/${id}.log` },
});

/** Every type, in the order the type selector lists them. */
export const LOG_TYPES = [
  program("openclaw", "OpenClaw gateway"),
  program("sshd", "SSH server"),
  program("chromium", "Browser (Chromium)"),
  program("xvfb", "Virtual display (Xvfb)"),
  program("x11vnc", "VNC server (x11vnc)"),
  program("websockify", "VNC WebSocket (websockify)"),
  { id: "supervisor", label: "Supervisor", source: { kind: "file", path: "/var/log/supervisor/supervisord.log" } },
  { id: "system", label: "System (container console)", source: { kind: "container" } },
] as const satisfies readonly LogType[];

export type LogTypeId = (typeof LOG_TYPES)[number]["id"];

export const LOG_TYPE_IDS = LOG_TYPES.map((t) => t.id) as [LogTypeId, ...LogTypeId[]];

/** The type named `id` (callers pass only validated ids). */
export function logType(id: LogTypeId): LogType {
  return LOG_TYPES.find((t) => t.id === id)!;
}

/** What clients see of a type (`GET .../logs/types` and the island's selector). */
export interface LogTypeInfo {
  id: LogTypeId;
  label: string;
  /** The file inside the instance, or null for the container console. */
  path: string | null;
  /** Whether new lines can be followed live (files can; the container console is read once). */
  followable: boolean;
}

export function logTypeInfos(): LogTypeInfo[] {
  return LOG_TYPES.map((t: LogType) => ({
    id: t.id as LogTypeId,
    label: t.label,
    path: t.source.kind === "file" ? t.source.path : null,
    followable: t.source.kind === "file",
  }));
}
