import type { ServerMessage } from "./protocol.ts";

/** One browser socket watching an instance's desktop. */
export interface Viewer {
  readonly instanceId: number;
  /** The signed-in user's name (shown to the others when this socket controls). */
  readonly userName: string;
  /** Delivers a control message to this socket. */
  send(message: ServerMessage): void;
}

interface Room {
  controller: Viewer | null;
  viewers: Set<Viewer>;
}

/**
 * Who may drive each instance's desktop: at most one controlling socket per instance, every other one
 * views only until it takes control explicitly (which makes the previous controller a viewer). Every
 * change is sent to all viewers of the instance. Control belongs to a socket, not a user, so a second
 * tab of the same user starts view-only too.
 */
export class DesktopControl {
  #rooms = new Map<number, Room>();

  /** Sockets open now, over all instances. */
  get size(): number {
    let n = 0;
    for (const room of this.#rooms.values()) n += room.viewers.size;
    return n;
  }

  join(viewer: Viewer): void {
    let room = this.#rooms.get(viewer.instanceId);
    if (!room) this.#rooms.set(viewer.instanceId, room = { controller: null, viewers: new Set() });
    room.viewers.add(viewer);
    this.#broadcast(room);
  }

  /** Removes a socket; returns whether it was the controller (control is then free). */
  leave(viewer: Viewer): boolean {
    const room = this.#rooms.get(viewer.instanceId);
    if (!room?.viewers.delete(viewer)) return false;
    const wasController = room.controller === viewer;
    if (wasController) room.controller = null;
    if (room.viewers.size === 0) this.#rooms.delete(viewer.instanceId);
    else this.#broadcast(room);
    return wasController;
  }

  /** Gives control to `viewer`; returns the name of the user who had it (null when nobody did). */
  take(viewer: Viewer): string | null {
    const room = this.#rooms.get(viewer.instanceId);
    if (!room?.viewers.has(viewer)) return null;
    const previous = room.controller;
    room.controller = viewer;
    this.#broadcast(room);
    return previous && previous !== viewer ? previous.userName : null;
  }

  /** Frees control if `viewer` has it; returns whether it had. */
  release(viewer: Viewer): boolean {
    const room = this.#rooms.get(viewer.instanceId);
    if (!room || room.controller !== viewer) return false;
    room.controller = null;
    this.#broadcast(room);
    return true;
  }

  isController(viewer: Viewer): boolean {
    return this.#rooms.get(viewer.instanceId)?.controller === viewer;
  }

  #broadcast(room: Room): void {
    const controller = room.controller?.userName ?? null;
    for (const v of room.viewers) {
      v.send({ type: "control", controller, you: v === room.controller, viewers: room.viewers.size });
    }
  }
}
