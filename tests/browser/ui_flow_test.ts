import assert from "node:assert/strict";
import { launchBrowser, SHOTS, SKIP_BROWSER } from "../_helpers/browser.ts";
import { loadConfig } from "../../core/config.ts";
import { silentLogger } from "../../core/log.ts";
import { startServer } from "../../core/server.ts";
import { coreRoutes, errorPage } from "../../routes/mod.ts";
import { builtinPlugins } from "../../plugins/mod.ts";

Deno.test({
  name: "browser: setup → login → create a user → that user is refused admin pages → logout",
  ignore: SKIP_BROWSER,
  async fn() {
    const dataPath = await Deno.makeTempDir({ prefix: "claworc-ui-" });
    const config = loadConfig((n) => ({ CLAWORC_DATA_PATH: dataPath, CLAWORC_PORT: "0" })[n]);
    const server = await startServer(config, { routes: coreRoutes, plugins: builtinPlugins(), errorPage }, {
      log: silentLogger,
    });
    const base = server.url;
    const browser = await launchBrowser();
    const errors: string[] = [];
    try {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      page.on("pageerror", (e) => errors.push(e.message));
      page.on(
        "console",
        (m) => m.type() === "error" && !m.text().startsWith("Failed to load resource") && errors.push(m.text()),
      );
      const shot = (name: string) => page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
      const hydrated = (name: string) => page.waitForSelector(`[data-island="${name}"][data-hydrated="true"]`);

      await page.goto(base + "/");
      assert.equal(new URL(page.url()).pathname, "/setup", "first run goes to setup");
      await hydrated("setup_form");
      await shot("01-setup");
      await page.fill('[data-testid="setup-username"]', "admin");
      await page.fill('[data-testid="setup-password"]', "admin-password-1");
      await page.fill('[data-testid="setup-confirm"]', "admin-password-1");
      await page.click('[data-testid="setup-submit"]');
      await page.waitForURL(base + "/");
      await page.waitForSelector('[data-testid="no-instances"]');
      await shot("02-dashboard");

      await page.goto(base + "/users");
      await hydrated("users_admin");
      await page.fill('[data-testid="new-username"]', "bob");
      await page.fill('[data-testid="new-password"]', "bob-password-12");
      await page.click('[data-testid="create-user"]');
      await page.waitForSelector('[data-testid="user-row-bob"]');
      await shot("03-users");

      await page.goto(base + "/audit");
      await hydrated("audit_viewer");
      const rows = await page.locator('[data-testid="audit-row"]').count();
      assert.ok(rows >= 2, `audit shows setup and user creation (${rows} rows)`);
      assert.match(await page.textContent("body") ?? "", /user\.create/);
      await shot("04-audit");

      await page.goto(base + "/settings");
      await hydrated("settings_form");
      await shot("05-settings");
      await page.goto(base + "/account");
      await hydrated("change_password_form");
      await shot("06-account");

      await page.click('[data-testid="logout"]');
      await page.waitForURL(/\/login/);
      await hydrated("login_form");
      await page.fill('[data-testid="login-username"]', "bob");
      await page.fill('[data-testid="login-password"]', "wrong-password-x");
      await page.click('[data-testid="login-submit"]');
      await page.waitForSelector('[role="alert"]');
      assert.match(await page.textContent('[role="alert"]') ?? "", /Invalid username or password/);
      await shot("07-login-error");
      await page.fill('[data-testid="login-password"]', "bob-password-12");
      await page.click('[data-testid="login-submit"]');
      await page.waitForURL(base + "/");
      assert.equal(await page.locator('nav.mainnav a[href="/users"]').count(), 0, "users link hidden from users");

      for (const path of ["/users", "/audit", "/settings"]) {
        const res = await page.goto(base + path);
        assert.equal(res?.status(), 403, `${path} refused to a user`);
        assert.match(await page.textContent('[data-testid="error-page"]') ?? "", /admin role/);
      }
      const api = await page.evaluate(`fetch("/api/v1/users").then((r) => r.status)`);
      assert.equal(api, 403);

      await page.goto(base + "/");
      await page.setViewportSize({ width: 390, height: 800 });
      await shot("08-dashboard-phone");
      await page.click('[data-testid="logout"]');
      await page.waitForURL(/\/login/);
      const after = await page.goto(base + "/account");
      assert.match(page.url(), /\/login\?next=%2Faccount/);
      assert.equal(after?.status(), 200);
      assert.deepEqual(errors, [], "no script errors in the browser");
    } finally {
      await browser.close();
      await server.close();
      await Deno.remove(dataPath, { recursive: true });
    }
  },
});
