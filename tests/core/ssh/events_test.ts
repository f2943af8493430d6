import assert from "node:assert/strict";
import { systemClock } from "../../../core/clock.ts";
import { Database } from "../../../core/db/database.ts";
import { Instances } from "../../../core/instances/instances.ts";
import { SshEvents } from "../../../core/ssh/events.ts";

async function world() {
  const dir = await Deno.makeTempDir({ prefix: "claworc-events-" });
  const db = new Database(`${dir}/claworc.db`);
  db.migrate();
  const instances = new Instances(db);
  const close = async () => {
    db.close();
    await Deno.remove(dir, { recursive: true });
  };
  return { db, instances, close };
}

Deno.test("ssh events: every instance's history stays bounded, however the ids of other instances' events fall", async () => {
  const w = await world();
  try {
    const [a, b] = [w.instances.insert("bot-a", "A").id, w.instances.insert("bot-b", "B").id];
    const events = new SshEvents(w.db, systemClock, 20);
    // Interleaved so that instance a never gets an event whose global id is a multiple of 50.
    for (let i = 0; i < 600; i++) {
      events.record(b, "connected");
      if (i % 2 === 0) events.record(a, "disconnected", { round: i });
      events.record(b, "disconnected");
    }
    const count = (id: number) =>
      w.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM ssh_events WHERE instance_id = ?", id)!.n;
    assert.ok(count(a) <= 20 + 49, `instance a kept ${count(a)} events`);
    assert.ok(count(b) <= 20 + 49, `instance b kept ${count(b)} events`);
    // The newest are the ones kept.
    assert.deepEqual(events.list(a, 1)[0].details, { round: 598 });
  } finally {
    await w.close();
  }
});

Deno.test("ssh events: an event for an instance that no longer exists is dropped, not an error", async () => {
  const w = await world();
  try {
    const id = w.instances.insert("bot-gone", "Gone").id;
    const events = new SshEvents(w.db, systemClock);
    const seen: number[] = [];
    events.subscribe((e) => seen.push(e.instance_id));
    events.record(id, "connected");
    w.instances.delete(id);
    events.record(id, "disconnected", { reason: "instance deleted" }); // threw "FOREIGN KEY constraint failed"
    events.record(id + 1000, "reconnecting");
    assert.deepEqual(seen, [id]);
    assert.deepEqual(w.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM ssh_events")!.n, 0);
  } finally {
    await w.close();
  }
});
