import assert from "node:assert/strict";
import { instanceWorld } from "../harness/instance_world.ts";

Deno.test({
  name:
    "a control plane shut down in the middle of a creation keeps the container; after the next start the instance serves",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const tag = crypto.randomUUID().slice(0, 6);
    // The world returns as soon as SSH is up, while the creation still waits for the desktop tunnel and gateway.
    const w = await instanceWorld(tag, () => [], `Shutdown ${tag}`, { returnAtSsh: true });
    try {
      assert.equal(w.t.services.operations.latest(w.id)?.state, "running", "the creation is still running");
      const t = await w.restart();
      const names = (await w.backend.list()).map((c) => c.name);
      assert.ok(names.includes(w.name), `the container is still there (${names.join(", ")})`);
      // The row was already "running" (SSH was up): the next start adopts it, and the gateway the interrupted
      // creation was waiting for comes up by itself.
      assert.equal(t.services.instances.get(w.id).status, "running");
      await t.services.ssh.waitForTunnel(w.id, "gateway", 120_000);
      assert.equal((await t.services.ssh.exec(w.id, "echo still-here")).stdout.trim(), "still-here");
    } finally {
      await w.close();
    }
  },
});
