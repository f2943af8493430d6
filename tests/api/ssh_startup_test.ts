import assert from "node:assert/strict";
import { loadConfig } from "../../core/config.ts";
import { silentLogger } from "../../core/log.ts";
import type { SshEndpoint } from "../../core/mod.ts";
import { startServer } from "../../core/server.ts";
import { authorizedLine } from "../../core/ssh/authorized_line.ts";
import { builtinPlugins } from "../../plugins/mod.ts";
import { coreRoutes, errorPage } from "../../routes/mod.ts";
import { fixedBackend } from "../harness/fixed_backend.ts";
import { until } from "../harness/pool.ts";
import { startSshd } from "../harness/sshd.ts";

Deno.test("after a control-plane restart, running instances reconnect without anyone asking", async () => {
  const dataPath = await Deno.makeTempDir({ prefix: "claworc-restart-" });
  const endpoints = new Map<string, SshEndpoint>();
  const config = loadConfig((n) => ({ CLAWORC_DATA_PATH: dataPath, CLAWORC_PORT: "0" })[n]);
  const parts = { routes: coreRoutes, plugins: [...builtinPlugins(), fixedBackend(endpoints)], errorPage };
  const first = await startServer(config, parts, { log: silentLogger });
  const sshd = await startSshd({
    authorizedKeys: [authorizedLine(first.services.sshKeys.publicKey, first.services.ssh.targets)],
  });
  try {
    endpoints.set("bot-r", { host: sshd.host, port: sshd.port, username: sshd.user });
    const inst = first.services.instances.insert("bot-r", "R");
    first.services.db.run("UPDATE instances SET status = 'running' WHERE id = ?", inst.id);
    const stopped = first.services.instances.insert("bot-s", "S");
    await first.close();

    const second = await startServer(config, parts, { log: silentLogger });
    try {
      await until(() => second.services.ssh.status(inst.id).state === "connected", 10_000, "reconnected after restart");
      assert.equal(
        second.services.ssh.status(stopped.id).state,
        "disconnected",
        "instances that are not running stay alone",
      );
      assert.equal(second.services.hostKeys.get(inst.id)?.source, "first-use");
    } finally {
      await second.close();
    }
  } finally {
    await sshd.close();
    await Deno.remove(dataPath, { recursive: true });
  }
});
