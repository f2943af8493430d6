import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { freePort, waitFor200 } from "../../scripts/_server_probe.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

Deno.test("`deno task start` serves /health, setup and login over real HTTP with its narrow permissions", async () => {
  const port = freePort();
  const dataPath = `./data/test-${crypto.randomUUID().slice(0, 8)}`;
  const base = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["task", "start"],
    cwd: ROOT,
    env: { CLAWORC_DATA_PATH: dataPath, CLAWORC_PORT: String(port), CLAWORC_LOG_LEVEL: "warn" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  try {
    const ms = await waitFor200(`${base}/health`, started);
    console.log(`cold start with build: ${Math.round(ms)} ms to first 200 on /health`);
    assert.deepEqual(await (await fetch(`${base}/health`)).json(), {
      status: "healthy",
      database: "ok",
      backend: "none",
      version: "0.1.0",
      checks: {},
    });
    const setup = await fetch(`${base}/api/v1/auth/setup`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: base },
      body: JSON.stringify({ username: "ops", password: "ops-password-1" }),
    });
    assert.equal(setup.status, 201);
    await setup.body?.cancel();
    const login = await fetch(`${base}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: base },
      body: JSON.stringify({ username: "ops", password: "ops-password-1" }),
    });
    assert.equal(login.status, 200);
    const cookie = login.headers.getSetCookie()[0].split(";")[0];
    await login.body?.cancel();
    const me = await fetch(`${base}/api/v1/auth/me`, { headers: { cookie } });
    assert.deepEqual(await me.json(), { id: 1, username: "ops", role: "admin" });
    const page = await fetch(`${base}/login`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /data-island="login_form"/);
    const island = await fetch(`${base}/static/build/login_form.js`);
    assert.equal(island.status, 200, "island bundle built by the start task");
    await island.body?.cancel();
    const info = await Deno.stat(`${ROOT}/${dataPath}`);
    assert.equal(info.mode! & 0o777, 0o700);
  } finally {
    child.kill("SIGTERM");
    const status = await child.status;
    const err = new TextDecoder().decode((await child.stderr.getReader().read()).value ?? new Uint8Array());
    await child.stdout.cancel();
    await Deno.remove(`${ROOT}/${dataPath}`, { recursive: true }).catch(() => {});
    assert.ok(status.success || status.signal === "SIGTERM", `server exit: ${JSON.stringify(status)} ${err}`);
  }
});

Deno.test("invalid configuration stops start-up with one clear message and exit code 2", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "serve"],
    cwd: ROOT,
    env: { CLAWORC_PORT: "not-a-port" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 2);
  const err = new TextDecoder().decode(out.stderr);
  assert.match(err, /claworc: Invalid CLAWORC_PORT="not-a-port": must be a whole number\./);
  assert.doesNotMatch(err, /at file:/);
});
