import assert from "node:assert/strict";
import { loadConfig } from "../../core/config.ts";
import { silentLogger } from "../../core/log.ts";
import { startServer } from "../../core/server.ts";
import { coreRoutes, errorPage } from "../../routes/mod.ts";
import { builtinPlugins } from "../../plugins/mod.ts";

/** A stop must not wait for open dashboards: their event streams end themselves when the server stops. */
Deno.test("stopping the server ends open event streams at once instead of waiting for them", async () => {
  const dataPath = await Deno.makeTempDir({ prefix: "claworc-stop-" });
  const config = loadConfig((n) =>
    ({ CLAWORC_DATA_PATH: dataPath, CLAWORC_PORT: "0", CLAWORC_DOCKER_SOCKET: "none" })[n]
  );
  const server = await startServer(config, { routes: coreRoutes, plugins: builtinPlugins(), errorPage }, {
    log: silentLogger,
  });
  try {
    const setup = await fetch(`${server.url}/api/v1/auth/setup`, {
      method: "POST",
      headers: { origin: server.url, "content-type": "application/json" },
      body: JSON.stringify({ username: "admin", password: "admin-password-1" }),
    });
    const cookie = setup.headers.getSetCookie()[0].split(";")[0];
    await setup.body?.cancel();
    const streams = await Promise.all(
      [1, 2].map(() => fetch(`${server.url}/api/v1/events`, { headers: { cookie } })),
    );
    const readers = streams.map((res) => {
      assert.equal(res.status, 200);
      return res.body!.getReader();
    });
    // Each stream has said "ready": it is open and waiting for events.
    for (const reader of readers) assert.match(new TextDecoder().decode((await reader.read()).value), /event: ready/);

    const started = performance.now();
    await server.close();
    const took = performance.now() - started;
    assert.ok(took < 3_000, `stopped in ${Math.round(took)} ms with two dashboards open`);
    for (const reader of readers) {
      let done = false;
      while (!done) done = (await reader.read().catch(() => ({ done: true }))).done;
    }
  } finally {
    await server.close();
    await Deno.remove(dataPath, { recursive: true });
  }
});
