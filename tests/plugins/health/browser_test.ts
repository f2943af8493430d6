import assert from "node:assert/strict";
import { launchBrowser, SKIP_BROWSER } from "../../_helpers/browser.ts";
import { loadConfig } from "../../../core/config.ts";
import { silentLogger } from "../../../core/log.ts";
import type { SshEndpoint } from "../../../core/mod.ts";
import { startServer } from "../../../core/server.ts";
import { builtinPlugins } from "../../../plugins/mod.ts";
import { coreRoutes, errorPage } from "../../../routes/mod.ts";
import { authorizedLine } from "../../../core/ssh/authorized_line.ts";
import { fixedBackend } from "../../harness/fixed_backend.ts";
import { startSshd } from "../../harness/sshd.ts";

const WAIT = { timeout: 15_000 };

/** The app on a fixed backend over `endpoints`, and Chromium signed in as the admin; `close` ends both. */
async function signedInApp(endpoints = new Map<string, SshEndpoint>()) {
  const dataPath = await Deno.makeTempDir({ prefix: "claworc-health-ui-" });
  const config = loadConfig((n) => ({ CLAWORC_DATA_PATH: dataPath, CLAWORC_PORT: "0" })[n]);
  const server = await startServer(config, {
    routes: coreRoutes,
    plugins: [...builtinPlugins(), fixedBackend(endpoints)],
    errorPage,
  }, { log: silentLogger });
  const browser = await launchBrowser();
  const close = async () => {
    await browser.close();
    await server.close();
    await Deno.remove(dataPath, { recursive: true });
  };
  try {
    const setup = await fetch(`${server.url}/api/v1/auth/setup`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: server.url },
      body: JSON.stringify({ username: "admin", password: "admin-password-1" }),
    });
    assert.equal(setup.status, 201);
    const [name, value] = setup.headers.getSetCookie()[0].split(";")[0].split("=");
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addCookies([{ name, value, url: server.url }]);
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    return { server, s: server.services, page, errors, close };
  } catch (e) {
    await close();
    throw e;
  }
}

Deno.test({
  name: "browser: the SSH tab says why Test connection and Reconnect are refused on a stopped instance",
  ignore: SKIP_BROWSER,
  async fn() {
    const { server, s, page, errors, close } = await signedInApp();
    try {
      const inst = s.instances.insert("bot-stopped", "Stopped bot");
      s.instances.setStatus(inst.id, "stopped");

      await page.goto(`${server.url}/instances/${inst.id}/ssh`);
      await page.waitForSelector('[data-island="ssh_panel"][data-hydrated="true"]');
      const refused = `Instance ${inst.id} is stopped; start it first.`;

      // The server's reason is shown as the sentence it is: no "after 0 ms" for a refusal, no doubled full stop.
      await page.click('[data-testid="ssh-test-button"]');
      const test = page.locator('[data-testid="ssh-test"][role="alert"]');
      await test.waitFor(WAIT);
      assert.equal(await test.textContent(), `Test failed: ${refused}`);

      await page.click('[data-testid="ssh-reconnect-button"]');
      const reconnect = page.locator('[data-testid="ssh-reconnect"][role="alert"]');
      await reconnect.waitFor(WAIT);
      assert.equal(await reconnect.textContent(), `Reconnect failed: ${refused}`);
      // Nothing was dialled: the state stays as it was.
      assert.equal(await page.textContent('[data-testid="ssh-state"]'), "disconnected");
      assert.deepEqual(errors, []);
    } finally {
      await close();
    }
  },
});

Deno.test({
  name:
    "browser: the dashboard re-reads the list when its event stream reconnects, so an SSH state missed meanwhile shows",
  ignore: SKIP_BROWSER,
  async fn() {
    const endpoints = new Map<string, SshEndpoint>();
    const { server, s, page, errors, close } = await signedInApp(endpoints);
    const sshd = await startSshd({ authorizedKeys: [authorizedLine(s.sshKeys.publicKey, s.ssh.targets)] })
      .catch(async (e) => {
        await close();
        throw e;
      });
    try {
      const inst = s.instances.insert("bot-live", "Live bot");
      endpoints.set("bot-live", { host: sshd.host, port: sshd.port, username: sshd.user });

      // The event stream is cut (as by a network break) until `cut` is lifted: each attempt gets an empty
      // stream that ends at once, and the browser tries again 200 ms later.
      let cut = true;
      await page.route(
        "**/api/v1/events",
        (route) =>
          cut
            ? route.fulfill({ status: 200, contentType: "text/event-stream", body: "retry: 200\n\n" })
            : route.continue(),
      );
      await page.goto(`${server.url}/`);
      await page.waitForSelector('[data-island="instances_dashboard"][data-hydrated="true"]');
      const badge = page.locator('[data-testid="instance-ssh"]');
      assert.equal(await badge.textContent(), "disconnected");

      // The instance connects while the page hears nothing; then the stream comes back.
      await s.ssh.connect(inst.id);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(await badge.textContent(), "disconnected", "nothing pushed while the stream is cut");
      cut = false;
      await page.locator('[data-testid="instance-ssh"]', { hasText: /^connected$/ }).waitFor(WAIT);
      assert.equal(await badge.textContent(), "connected");
      // The list the dashboard re-reads carries every instance's SSH state.
      const list = await page.evaluate(async () => await (await fetch("/api/v1/instances")).json());
      assert.deepEqual(list.map((i: { name: string; ssh_state: string }) => [i.name, i.ssh_state]), [
        ["bot-live", "connected"],
      ]);
      assert.deepEqual(errors, []);
    } finally {
      await close();
      await sshd.close();
    }
  },
});
