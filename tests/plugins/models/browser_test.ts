import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { SHOTS, SKIP_BROWSER } from "../../_helpers/browser.ts";
import { uiWorld } from "../../harness/ui_world.ts";

/** A rollout restarts the agent's gateway and waits for it: allow it a few minutes. */
const ROLLOUT = { timeout: 180_000 };

Deno.test({
  name: "browser: Models & keys: a key shown masked only, a custom provider and default model rolled out to a " +
    "real instance, an instance override applied, a bad input explained, read-only for an assigned user",
  ignore: SKIP_BROWSER,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const tag = crypto.randomUUID().slice(0, 6);
    const w = await uiWorld(`models-${tag}`);
    const { server, id } = w;
    const base = server.url;
    // Distinct last characters, so the masked forms are recognisable; the rest must never show up.
    const openaiKey = `sk-test-${tag}-0123456789-WXyz`;
    const fakeKey = `fake-own-${tag}-9876-Qr7t`;
    const secretParts = [openaiKey, openaiKey.slice(0, -4), fakeKey, fakeKey.slice(0, -4)];
    const apiGet = async (path: string, cookie = w.cookie) => {
      const res = await fetch(base + path, { headers: { cookie } });
      return { status: res.status, body: await res.json() };
    };
    const onInstance = async (file: string) => {
      const out = await server.services.ssh.exec(id, `cat ~/.openclaw/${file}`);
      assert.equal(out.code, 0, `cat ${file}: ${out.stderr}`);
      return out.stdout;
    };
    const noSecretIn = async (page: Page, where: string) => {
      const html = await page.content();
      for (const s of secretParts) assert.ok(!html.includes(s), `${where}: a key (or most of it) is in the page`);
    };
    const hydrated = (page: Page, name: string) =>
      page.waitForSelector(`[data-island="${name}"][data-hydrated="true"]`);
    /** Waits for the rollout shown on `page` to end; the instance must have applied it (else its row says why). */
    const rolledOut = async (page: Page, what: string) => {
      const started = performance.now();
      await page.locator('[data-testid="rollout"][data-state="done"]').waitFor(ROLLOUT);
      const row = page.locator(`[data-testid="rollout-row-${id}"]`);
      assert.equal(await row.getAttribute("data-state"), "applied", `${what}: ${await row.textContent()}`);
      console.log(`${what}: rolled out in ${Math.round((performance.now() - started) / 1000)} s`);
    };
    const text = async (page: Page, testid: string) =>
      (await page.locator(`[data-testid="${testid}"]`).textContent())?.trim();
    let current: Page | undefined;
    try {
      const page = current = await w.page();
      page.setDefaultTimeout(30_000);
      const shot = (file: string) => page.screenshot({ path: `${SHOTS}/${file}.png`, fullPage: true });

      // The page is in the navigation after the instances dashboard and before the audit log.
      await page.goto(`${base}/models`);
      await hydrated(page, "models_admin");
      const nav = (await page.locator("nav.mainnav a").allTextContents()).map((t) => t.trim());
      assert.ok(
        nav.indexOf("Dashboard") < nav.indexOf("Models") && nav.indexOf("Models") < nav.indexOf("Audit log"),
        `navigation order: ${nav.join(", ")}`,
      );
      assert.equal(await text(page, "key-status-openai"), "not set");
      assert.equal(await text(page, "saved-primary"), "none");

      // An OpenAI key, a custom provider, a default model from it and a fallback, saved in one go.
      await page.fill('[data-testid="key-input-openai"]', openaiKey);
      await page.fill('[data-testid="custom-id"]', "fake");
      await page.fill('[data-testid="custom-label"]', "Fake model");
      await page.fill('[data-testid="custom-base-url"]', "http://127.0.0.1:18555/v1");
      await page.fill('[data-testid="custom-models"]', "fake-model, fake-other");
      await page.click('[data-testid="custom-add-button"]');
      await page.locator('[data-testid="custom-row-fake"]').waitFor();
      // The new provider gets a key row of its own, and its model is suggested.
      await page.locator('[data-testid="key-row-fake"]').waitFor();
      assert.equal(
        await page.locator('#model-suggestions option[value="fake/fake-model"]').count(),
        1,
        "the custom model is offered as a suggestion",
      );
      // Only the custom provider's models are rolled out: a built-in provider's model (openai/gpt-5) makes
      // OpenClaw enable that provider's plugin and fetch it from the npm registry at start, which cannot
      // work offline (the gateway does not come back and the change is rolled back).
      await page.fill('[data-testid="primary-input"]', "fake/fake-model");
      await page.fill('[data-testid="fallbacks-input"]', "fake/fake-other");
      await page.click('[data-testid="fallbacks-add"]');
      await page.fill('[data-testid="fallbacks-input"]', "google/gemini-2.5-pro");
      await page.click('[data-testid="fallbacks-add"]');
      // Reordering and removing in the list: google first, then removed again.
      await page.click(
        '[data-testid="fallbacks-item"][data-model="google/gemini-2.5-pro"] [data-testid="fallbacks-up"]',
      );
      assert.deepEqual(
        await page.locator('[data-testid="fallbacks-item"]').evaluateAll((els) => els.map((e) => e.dataset.model)),
        ["google/gemini-2.5-pro", "fake/fake-other"],
      );
      await page.click(
        '[data-testid="fallbacks-item"][data-model="google/gemini-2.5-pro"] [data-testid="fallbacks-remove"]',
      );
      assert.equal(
        await text(page, "models-dirty"),
        "Unsaved: default model, fallbacks, custom providers, keys (openai).",
      );
      await shot("models-01-editing");
      await page.click('[data-testid="models-save"]');
      await page.locator('[data-testid="models-message"][role="status"]', { hasText: /^Saved/ }).waitFor();

      // The key is shown masked (its last 4 characters only); the field is empty again.
      assert.equal(await text(page, "key-masked-openai"), "****WXyz");
      assert.equal(await page.inputValue('[data-testid="key-input-openai"]'), "");
      assert.equal(await text(page, "saved-primary"), "fake/fake-model");
      await noSecretIn(page, "after saving");

      // The rollout shows the instance reaching "applied" (its gateway restarted with the change).
      const row = page.locator(`[data-testid="rollout-row-${id}"]`);
      await row.waitFor();
      await rolledOut(page, "global change");
      assert.equal(await row.locator('[data-testid="rollout-result"]').textContent(), "applied");
      assert.equal(await text(page, "models-message"), "Saved and applied.");
      await shot("models-02-rolled-out");

      // The API agrees; the instance's openclaw.json names the model and holds no key, the keys file does.
      const after = await apiGet(`/api/v1/instances/${id}/models`);
      assert.equal(after.status, 200);
      assert.equal(after.body.sync.state, "applied", JSON.stringify(after.body.sync));
      assert.deepEqual(after.body.effective.models, ["fake/fake-model", "fake/fake-other"]);
      assert.deepEqual(after.body.effective.keys, [{ provider: "openai", source: "global" }]);
      const config = await onInstance("openclaw.json");
      assert.ok(config.includes("fake/fake-model"), "openclaw.json names the default model");
      assert.deepEqual(JSON.parse(config).agents.defaults.model, {
        primary: "fake/fake-model",
        fallbacks: ["fake/fake-other"],
      });
      assert.equal(JSON.parse(config).models.providers.fake.baseUrl, "http://127.0.0.1:18555/v1");
      for (const s of secretParts) assert.ok(!config.includes(s), "no key in openclaw.json");
      assert.deepEqual(JSON.parse(await onInstance("claworc-keys.json")), { openai: openaiKey });

      // Read again from the server: still masked only, nothing left to save.
      await page.reload();
      await hydrated(page, "models_admin");
      assert.equal(await text(page, "key-masked-openai"), "****WXyz");
      assert.equal(await text(page, "models-dirty"), "No unsaved changes.");
      await noSecretIn(page, "after a reload");

      // A bad base URL: the API's own message is shown and nothing is stored.
      await page.fill('[data-testid="custom-id"]', "broken");
      await page.fill('[data-testid="custom-base-url"]', "ftp://x");
      await page.fill('[data-testid="custom-models"]', "m1\nm2");
      await page.click('[data-testid="custom-add-button"]');
      await page.click('[data-testid="models-save"]');
      const alert = page.locator('[data-testid="models-message"][role="alert"]');
      await alert.waitFor();
      assert.equal(await alert.textContent(), "Invalid custom_providers.1.base_url: an http or https URL.");
      await shot("models-03-bad-input");
      const global = await apiGet("/api/v1/models");
      assert.deepEqual(global.body.custom_providers.map((p: { id: string }) => p.id), ["fake"]);

      // The instance's Models tab: what it runs, then an own key for `fake` and the fallback disabled.
      await page.goto(`${base}/instances/${id}/models`);
      await hydrated(page, "instance_models");
      const effective = () =>
        page.locator('[data-testid="effective-model"]').evaluateAll((els) => els.map((e) => e.dataset.model));
      assert.equal(await text(page, "sync-state"), "applied");
      assert.deepEqual(await effective(), ["fake/fake-model", "fake/fake-other"]);
      assert.equal(
        await page.locator('[data-testid="effective-key-openai"]').getAttribute("data-source"),
        "global",
      );
      assert.match(await text(page, "key-status-openai") ?? "", /uses the global key \*\*\*\*WXyz/);
      await page.fill('[data-testid="key-input-fake"]', fakeKey);
      await page.check('[data-testid="disable-model"][data-model="fake/fake-other"]');
      await shot("models-04-instance-editing");
      await page.click('[data-testid="instance-models-save"]');
      await rolledOut(page, "instance change");
      await page.locator('[data-testid="instance-models-message"]', { hasText: /^Saved and applied\.$/ }).waitFor();
      // The tab reads the instance again after the rollout: applied, one model, its own key.
      await page.locator('[data-testid="sync"][data-state="applied"]').waitFor();
      assert.deepEqual(await effective(), ["fake/fake-model"]);
      assert.equal(await page.locator('[data-testid="effective-key-fake"]').getAttribute("data-source"), "instance");
      assert.equal(await text(page, "key-masked-fake"), "****Qr7t");
      assert.equal(await page.inputValue('[data-testid="key-input-fake"]'), "");
      await noSecretIn(page, "instance tab after saving");
      await shot("models-05-instance-applied");

      const inst = await apiGet(`/api/v1/instances/${id}/models`);
      assert.equal(inst.body.sync.state, "applied");
      assert.deepEqual(inst.body.disabled_models, ["fake/fake-other"]);
      assert.deepEqual(inst.body.effective.models, ["fake/fake-model"]);
      const config2 = JSON.parse(await onInstance("openclaw.json"));
      assert.deepEqual(config2.agents.defaults.model, { primary: "fake/fake-model", fallbacks: [] });
      assert.ok(config2.models.providers.fake.apiKey, "the fake provider reads its key through a SecretRef");
      const config2Text = await onInstance("openclaw.json");
      for (const s of secretParts) assert.ok(!config2Text.includes(s), "no key in openclaw.json");
      assert.deepEqual(JSON.parse(await onInstance("claworc-keys.json")), { openai: openaiKey, fake: fakeKey });

      // An assigned user: the tab read-only (no field, no save), no global keys; /models refused.
      const headers = { "content-type": "application/json", origin: base, cookie: w.cookie };
      const created = await fetch(`${base}/api/v1/users`, {
        method: "POST",
        headers,
        body: JSON.stringify({ username: "viewer", password: "viewer-password-1", role: "user" }),
      });
      assert.equal(created.status, 201, await created.clone().text());
      const viewerId = (await created.json()).id;
      const assigned = await fetch(`${base}/api/v1/users/${viewerId}/instances`, {
        method: "PUT",
        headers,
        body: JSON.stringify({ instance_ids: [id] }),
      });
      assert.equal(assigned.status, 200);
      const login = await fetch(`${base}/api/v1/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: base },
        body: JSON.stringify({ username: "viewer", password: "viewer-password-1" }),
      });
      assert.equal(login.status, 200);
      const [k, v] = login.headers.getSetCookie()[0].split(";")[0].split("=");
      const context = await w.browser.newContext({ viewport: { width: 1280, height: 900 } });
      await context.addCookies([{ name: k, value: v, url: base }]);
      const viewer = current = await context.newPage();
      viewer.setDefaultTimeout(30_000);
      viewer.on("pageerror", (e) => w.errors.push(e.message));
      await viewer.goto(`${base}/instances/${id}/models`);
      await hydrated(viewer, "instance_models");
      await viewer.locator('[data-testid="overrides-readonly"]').waitFor();
      assert.equal(await viewer.locator('[data-testid="overrides-form"]').count(), 0, "no override form");
      assert.equal(await viewer.locator('[data-island="instance_models"] input').count(), 0, "no field");
      assert.equal(await viewer.locator('[data-island="instance_models"] button[type="submit"]').count(), 0);
      assert.equal(await text(viewer, "sync-state"), "applied");
      assert.equal(await text(viewer, "ro-disabled"), "fake/fake-other");
      assert.match(await text(viewer, "ro-keys") ?? "", /\*\*\*\*Qr7t/);
      const viewerHtml = await viewer.content();
      assert.ok(!viewerHtml.includes("****WXyz"), "a user is not shown the global keys, even masked");
      await noSecretIn(viewer, "user's tab");
      await viewer.screenshot({ path: `${SHOTS}/models-06-user-readonly.png`, fullPage: true });
      assert.equal(await viewer.locator('nav.mainnav a[href="/models"]').count(), 0, "no Models link for users");
      const refused = await viewer.goto(`${base}/models`);
      assert.equal(refused?.status(), 403);
      assert.match(await viewer.textContent('[data-testid="error-page"]') ?? "", /admin role/);
      const put = await viewer.evaluate(
        `fetch("/api/v1/instances/${id}/models", { method: "PUT", headers: { "content-type": "application/json" },
          body: JSON.stringify({ disabled_models: [] }) }).then((r) => r.status)`,
      );
      assert.equal(put, 403);
      await context.close();
      assert.deepEqual(w.errors, [], "no script errors in the browser");
    } catch (e) {
      await current?.screenshot({ path: `${SHOTS}/models-failed.png`, fullPage: true }).catch(() => {});
      throw e;
    } finally {
      await w.close();
    }
  },
});
