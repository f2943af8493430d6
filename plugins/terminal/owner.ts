import { AppError } from "../../core/mod.ts";

/** What `prepareCommand` found: a session made now, or an existing one with its owner and replay. */
export type Prepared = { created: true } | { created: false; ownerId: number | null; capture: string };

/** Parses `prepareCommand`'s output. */
export function parsePrepared(stdout: string, stderr = ""): Prepared {
  const nl = stdout.indexOf("\n");
  const first = nl < 0 ? stdout : stdout.slice(0, nl);
  if (first === "created") return { created: true };
  const m = /^owner (\d*)$/.exec(first);
  if (!m) {
    const why = stderr.trim().split("\n").slice(-3).join(" ").slice(0, 300);
    throw new AppError(
      "SSH_UNAVAILABLE",
      `tmux did not start the terminal session on the instance${why ? `: ${why}` : "."}`,
    );
  }
  return { created: false, ownerId: m[1] ? Number(m[1]) : null, capture: nl < 0 ? "" : stdout.slice(nl + 1) };
}

/** 403 unless `userId` owns the session (admins included: they may list and close, not attach). */
export function requireOwner(ownerId: number | null, userId: number, sessionId: string): void {
  if (ownerId !== userId) {
    throw new AppError("FORBIDDEN", `Terminal session "${sessionId}" belongs to another user.`);
  }
}
