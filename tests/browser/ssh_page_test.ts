import assert from "node:assert/strict";
import { launchBrowser, SHOTS, SKIP_BROWSER } from "../_helpers/browser.ts";
import { loadConfig } from "../../core/config.ts";
import { silentLogger } from "../../core/log.ts";
import type { SshEndpoint } from "../../core/mod.ts";
import { startServer } from "../../core/server.ts";
import { authorizedLine } from "../../core/ssh/authorized_line.ts";
import { builtinPlugins } from "../../plugins/mod.ts";
import { coreRoutes, errorPage } from "../../routes/mod.ts";
import { fixedBackend } from "../harness/fixed_backend.ts";
import { startSshd } from "../harness/sshd.ts";

Deno.test({
  name: "browser: the instance page shows SSH state, tests the connection, and settings show the SSH key",
  ignore: SKIP_BROWSER,
  async fn() {
    const dataPath = await Deno.makeTempDir({ prefix: "claworc-ui-ssh-" });
    const endpoints = new Map<string, SshEndpoint>();
    const config = loadConfig((n) => ({ CLAWORC_DATA_PATH: dataPath, CLAWORC_PORT: "0" })[n]);
    const server = await startServer(config, {
      routes: coreRoutes,
      plugins: [...builtinPlugins(), fixedBackend(endpoints)],
      errorPage,
    }, { log: silentLogger });
    const s = server.services;
    const sshd = await startSshd({ authorizedKeys: [authorizedLine(s.sshKeys.publicKey, s.ssh.targets)] });
    const inst = s.instances.insert("bot-ui", "UI bot");
    endpoints.set("bot-ui", { host: sshd.host, port: sshd.port, username: sshd.user });
    const browser = await launchBrowser();
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
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));

      await page.goto(`${server.url}/`);
      await page.click('[data-testid="instance-link-bot-ui"]');
      // The instance page opens on its first tab (Chat); the SSH tab is one click away.
      await page.waitForURL(`${server.url}/instances/${inst.id}/chat`);
      await page.click('[data-testid="instance-tabs"] a:text-is("SSH")');
      await page.waitForURL(`${server.url}/instances/${inst.id}/ssh`);
      await page.waitForSelector('[data-island="ssh_panel"][data-hydrated="true"]');
      assert.match(await page.textContent('[data-testid="ssh-state"]') ?? "", /disconnected/i);
      await page.click('[data-testid="ssh-test-button"]');
      await page.waitForSelector('[data-testid="ssh-test"][role="status"]');
      assert.match(await page.textContent('[data-testid="ssh-test"]') ?? "", /ok/i);
      await page.locator('[data-testid="ssh-state"]', { hasText: /^connected$/ }).waitFor({ timeout: 30_000 });
      await page.waitForSelector('[data-testid="ssh-event"][data-type="connected"]');
      assert.equal(await page.locator('[data-testid^="tunnel-row-"]').count(), 2);
      await page.screenshot({ path: `${SHOTS}/09-instance-ssh.png`, fullPage: true });

      await page.click('[data-testid="ssh-reconnect-button"]');
      await page.waitForSelector('[data-testid="ssh-reconnect"][role="status"]');

      await page.goto(`${server.url}/settings`);
      await page.waitForSelector('[data-island="ssh_key_card"][data-hydrated="true"]');
      assert.equal((await page.textContent('[data-testid="ssh-fingerprint"]'))?.trim(), s.sshKeys.fingerprint());
      await page.screenshot({ path: `${SHOTS}/10-settings-ssh-key.png`, fullPage: true });
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await server.close();
      await sshd.close();
      await Deno.remove(dataPath, { recursive: true });
    }
  },
});
