import assert from "node:assert/strict";
import { launchBrowser, SHOTS, SKIP_BROWSER } from "../_helpers/browser.ts";
import { loadConfig } from "../../core/config.ts";
import { silentLogger } from "../../core/log.ts";
import { startServer } from "../../core/server.ts";
import { coreRoutes, errorPage } from "../../routes/mod.ts";
import { builtinPlugins } from "../../plugins/mod.ts";

/**
 * Passkeys for real: Chromium's virtual authenticator (CTAP2, platform, resident keys, user
 * verification) over CDP, on http://localhost (a secure context whose host can be the RP ID).
 */
Deno.test({
  name: "browser: add a passkey, sign out, sign in with it (no username), policy, delete it, sign-in refused",
  ignore: SKIP_BROWSER,
  async fn() {
    const dataPath = await Deno.makeTempDir({ prefix: "claworc-passkeys-" });
    const config = loadConfig((n) => ({ CLAWORC_DATA_PATH: dataPath, CLAWORC_PORT: "0" })[n]);
    const server = await startServer(config, { routes: coreRoutes, plugins: builtinPlugins(), errorPage }, {
      log: silentLogger,
    });
    const base = `http://localhost:${new URL(server.url).port}`;
    const browser = await launchBrowser();
    const errors: string[] = [];
    try {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      page.on("pageerror", (e) => errors.push(e.message));
      const cdp = await context.newCDPSession(page);
      await cdp.send("WebAuthn.enable");
      const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
        options: {
          protocol: "ctap2",
          transport: "internal",
          hasResidentKey: true,
          hasUserVerification: true,
          isUserVerified: true,
          automaticPresenceSimulation: true,
        },
      });
      const shot = (name: string) => page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
      const hydrated = (name: string) => page.waitForSelector(`[data-island="${name}"][data-hydrated="true"]`);
      const signOut = async () => {
        await page.click('[data-testid="logout"]');
        await page.waitForURL(/\/login/);
      };

      await page.goto(base + "/setup");
      await hydrated("setup_form");
      await page.fill('[data-testid="setup-username"]', "admin");
      await page.fill('[data-testid="setup-password"]', "admin-password-1");
      await page.fill('[data-testid="setup-confirm"]', "admin-password-1");
      await page.click('[data-testid="setup-submit"]');
      await page.waitForURL(base + "/");

      // Add a passkey, named, then rename it.
      await page.goto(base + "/account");
      await hydrated("passkeys_card");
      assert.ok(await page.isVisible('[data-testid="passkeys-empty"]'));
      await page.fill('[data-testid="passkey-name-input"]', "Virtual key");
      await page.click('[data-testid="passkey-add"]');
      await page.waitForSelector('[data-testid="passkey-name"]:has-text("Virtual key")');
      const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
      assert.equal(credentials.length, 1);
      assert.ok(credentials[0].isResidentCredential, "a discoverable credential was made");
      await page.click('[data-testid="passkey-rename"]');
      await page.fill('[data-testid="passkey-rename-input"]', "Work laptop");
      await page.click('[data-testid="passkey-rename-save"]');
      await page.waitForSelector('[data-testid="passkey-name"]:has-text("Work laptop")');
      await shot("passkeys-01-account");
      await page.goto(base + "/users");
      await hydrated("users_admin");
      assert.equal(await page.textContent('[data-testid="user-row-admin"] [data-testid="passkey-count"]'), "1");

      // Sign out, then in with the passkey alone: no username typed.
      await signOut();
      await hydrated("login_form");
      await page.click('[data-testid="login-passkey"]');
      await page.waitForURL(base + "/");
      const me = await page.evaluate("fetch('/api/v1/auth/me').then((r) => r.json())") as { username: string };
      assert.equal(me.username, "admin");
      const after = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
      assert.ok(after.credentials[0].signCount >= 1, "the authenticator signed");

      // Policy: admins must use a passkey; the password is then refused in the sign-in form.
      await page.goto(base + "/settings");
      await hydrated("sign_in_policy_form");
      await page.check('[data-testid="policy-admin-passkey"]');
      await page.click('[data-testid="policy-save"]');
      await page.waitForSelector('[data-testid="policy-message"]:has-text("saved")');
      await signOut();
      await hydrated("login_form");
      await page.fill('[data-testid="login-username"]', "admin");
      await page.fill('[data-testid="login-password"]', "admin-password-1");
      await page.click('[data-testid="login-submit"]');
      await page.waitForSelector('[role="alert"]:has-text("passkey")');
      await shot("passkeys-02-password-refused");

      // Username-first passkey sign-in, then the last passkey cannot be deleted under that policy.
      await page.fill('[data-testid="login-password"]', "");
      await page.click('[data-testid="login-passkey"]');
      await page.waitForURL(base + "/");
      await page.goto(base + "/account");
      await hydrated("passkeys_card");
      page.once("dialog", (d) => d.accept());
      await page.click('[data-testid="passkey-delete"]');
      await page.waitForSelector('[data-testid="passkeys"] [role="alert"]:has-text("last passkey")');
      assert.equal(await page.locator('[data-testid="passkey-row"]').count(), 1);

      // Lift the policy, delete the passkey; the authenticator still offers it, the server refuses it.
      await page.goto(base + "/settings");
      await hydrated("sign_in_policy_form");
      await page.uncheck('[data-testid="policy-admin-passkey"]');
      await page.click('[data-testid="policy-save"]');
      await page.waitForSelector('[data-testid="policy-message"]:has-text("saved")');
      await page.goto(base + "/account");
      await hydrated("passkeys_card");
      page.once("dialog", (d) => d.accept());
      await page.click('[data-testid="passkey-delete"]');
      await page.waitForSelector('[data-testid="passkeys-empty"]');
      await signOut();
      await hydrated("login_form");
      await page.click('[data-testid="login-passkey"]');
      await page.waitForSelector('[role="alert"]:has-text("could not be verified")');
      assert.match(new URL(page.url()).pathname, /^\/login/);
      await shot("passkeys-03-refused");
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await server.close();
      await Deno.remove(dataPath, { recursive: true });
    }
  },
});
