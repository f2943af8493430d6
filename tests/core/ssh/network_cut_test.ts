import assert from "node:assert/strict";
import { authorizedLine } from "../../../core/ssh/authorized_line.ts";
import { netnsHost } from "../../harness/netns.ts";
import { poolFixture, until } from "../../harness/pool.ts";
import { startSshd } from "../../harness/sshd.ts";

Deno.test("a cut network link is detected by the health layers and the connection recovers when it returns", async () => {
  const host = await netnsHost();
  const f = await poolFixture({ limits: { maxAttempts: 1000, failuresToBlock: 1000 } });
  const sshd = await startSshd({
    netns: host.name,
    listenAddress: host.address,
    authorizedKeys: [authorizedLine(f.keys.publicKey, f.pool.targets)],
  });
  try {
    f.endpoints.set(1, { host: sshd.host, port: sshd.port, username: sshd.user });
    f.pool.startHealth();
    f.pool.start(1);
    await until(() => f.pool.status(1).state === "connected", 10_000, "connected over the veth link");
    const first = f.pool.current(1);
    await host.down();
    const detected = await until(() => f.pool.status(1).state !== "connected", 15_000, "link cut detected");
    console.log(`link cut detected after ${Math.round(detected)} ms`);
    assert.ok(f.events.list(1).some((e) => e.type === "disconnected" || e.type === "health_check_failed"));
    await host.up();
    const back = await until(() => f.pool.status(1).state === "connected", 15_000, "reconnected after link up");
    console.log(`reconnected ${Math.round(back)} ms after the link came back`);
    assert.notEqual(f.pool.current(1), first);
    assert.equal((await f.pool.exec(1, "echo back")).stdout, "back\n");
  } finally {
    await f.close();
    await sshd.close();
    await host.close();
  }
});
