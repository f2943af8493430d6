import type { Instances } from "../instances/instances.ts";
import type { Sessions } from "./sessions.ts";

/** Why a long-lived connection to an instance must end now (with its WebSocket close code). */
export interface AccessLost {
  code: 4001 | 4003;
  reason: string;
}

/**
 * Re-checks a socket or stream opened earlier: the sign-in must still be valid (not touched, so an open
 * connection alone never keeps a session alive) and its current user, whose role may have changed since,
 * must still see the instance. Null while access holds.
 */
export function accessLost(
  s: { sessions: Pick<Sessions, "resolve">; instances: Pick<Instances, "visibleTo"> },
  token: string,
  instanceId: number,
): AccessLost | null {
  const user = s.sessions.resolve(token, false);
  if (!user) return { code: 4001, reason: "Your session ended." };
  if (!s.instances.visibleTo(user, instanceId)) return { code: 4003, reason: "You no longer have access." };
  return null;
}
