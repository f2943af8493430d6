import assert from "node:assert/strict";
import { SHOTS, SKIP_BROWSER } from "../../_helpers/browser.ts";
import { configPlugin } from "../../../plugins/config/mod.tsx";
import { until } from "../../harness/pool.ts";
import { uiWorld } from "../../harness/ui_world.ts";

const WAIT = { timeout: 30_000 };

Deno.test({
  name: "browser: the Config tab shows openclaw.json, flags a JSON error as you type, shows OpenClaw's issues " +
    "and saves a valid change (gateway restarted) on the real agent image",
  ignore: SKIP_BROWSER,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const tag = crypto.randomUUID().slice(0, 6);
    const w = await uiWorld(tag, [configPlugin()]);
    const { server, id } = w;
    const onInstance = async () => (await server.services.ssh.exec(id, "cat ~/.openclaw/openclaw.json")).stdout;
    try {
      const original = await onInstance();
      const page = await w.page();
      page.setDefaultTimeout(30_000);
      const shot = (name: string) => page.screenshot({ path: `${SHOTS}/config-${name}.png`, fullPage: true });
      const text = page.locator('[data-testid="config-text"]');
      const syntax = page.locator('[data-testid="config-syntax"]');
      const cursor = page.locator('[data-testid="config-cursor"]');
      const save = page.locator('[data-testid="config-save"]');
      const result = page.locator('[data-testid="config-result"]');

      // The tab is in the bar; it opens with the instance's file, numbered lines and the managed paths.
      await page.goto(`${server.url}/instances/${id}`);
      await page.click('[data-testid="instance-tabs"] a:text-is("Config")');
      await page.waitForURL(`${server.url}/instances/${id}/config`);
      await page.waitForSelector('[data-island="config_editor"][data-hydrated="true"]');
      await text.waitFor(WAIT);
      assert.equal(await text.inputValue(), original);
      const lines = original.split("\n").length;
      assert.equal(await page.locator('[data-testid="config-gutter"] span').count(), lines);
      await syntax.filter({ hasText: /^Valid JSON$/ }).waitFor(WAIT);
      assert.equal(await save.isDisabled(), true, "nothing to save yet");
      assert.match(await page.locator('[data-testid="config-managed"]').innerText(), /agents\.defaults\.model/);
      assert.match(
        await page.locator('[data-testid="config-managed-now"]').innerText(),
        /none \(no models or keys are set for it\)/,
      );
      await text.click();
      await page.keyboard.press("Control+End");
      await cursor.filter({ hasText: new RegExp(`^Ln ${lines}, Col 1$`) }).waitFor(WAIT);
      await shot("01-loaded");

      // A trailing comma: the error is shown with its line and column, the line is marked, Save is off.
      const broken = '{\n  "gateway": {\n    "mode": "local",\n  }\n}\n';
      await text.fill(broken);
      await page.locator('[data-testid="config-syntax"][data-state="error"]').waitFor(WAIT);
      assert.match(await syntax.innerText(), /^JSON error at line 4, column 3: expected a property name after ","/);
      assert.equal(await page.locator('[data-testid="config-gutter"] span.bad').innerText(), "4");
      assert.equal(await save.isDisabled(), true, "no save with a JSON error");
      await page.click('[data-testid="config-syntax-goto"]');
      await cursor.filter({ hasText: /^Ln 4, Col 3$/ }).waitFor(WAIT);
      await shot("02-syntax-error");

      // Well-formed but not for OpenClaw: Validate shows its issue with the path.
      await text.fill('{\n  "gateway": { "bogus": 1 }\n}\n');
      await syntax.filter({ hasText: /^Valid JSON$/ }).waitFor(WAIT);
      await page.click('[data-testid="config-validate"]');
      await page.locator('[data-testid="config-result"][data-kind="issues"]').waitFor({ timeout: 90_000 });
      assert.deepEqual(await page.locator('[data-testid="config-issue-path"]').allInnerTexts(), ["gateway"]);
      assert.match(await page.locator('[data-testid="config-issue"]').innerText(), /bogus/);
      await shot("03-openclaw-issue");

      // A valid change: Save shows its progress, then success with the time it took; the file is on the instance.
      const changed = JSON.stringify(
        { ...JSON.parse(original), agents: { defaults: { timeoutSeconds: 600 } } },
        null,
        2,
      ) + "\n";
      await text.fill(changed);
      await page.locator('[data-testid="config-dirty"]').waitFor(WAIT);
      await page.click('[data-testid="config-validate"]');
      await page.locator('[data-testid="config-result"][data-kind="valid"]').waitFor({ timeout: 90_000 });
      // (A save is refused while the instance is still being created: its last step waits for the gateway.)
      await until(() => server.services.lifecycle.busy(id) === undefined, 240_000, "the creation to finish");
      await save.click();
      await page.locator('[data-testid="config-saving"]').waitFor(WAIT);
      assert.equal(await text.getAttribute("readonly"), "", "the text is read-only while saving");
      await shot("04-saving");
      await result.waitFor({ timeout: 300_000 });
      if (await result.getAttribute("data-kind") !== "saved") {
        const log = await server.services.ssh.exec(id, "tail -n 5 /var/log/supervisor/supervisord.log");
        assert.fail(`the save answered: ${await result.innerText()}\nsupervisord: ${log.stdout}`);
      }
      assert.match(
        await result.innerText(),
        /^Saved in \d+\.\d s: OpenClaw accepted the file and its gateway restarted with it\./,
      );
      assert.equal(await page.locator('[data-testid="config-dirty"]').count(), 0, "saved: nothing unsaved");
      assert.equal(await page.locator('[data-testid="config-saving"]').count(), 0);
      assert.equal(await onInstance(), changed);
      await shot("05-saved");

      // Reload reads the saved file back.
      await page.click('[data-testid="config-reload"]');
      await page.locator('[data-testid="config-result"]').waitFor({ state: "detached", ...WAIT });
      assert.equal(await text.inputValue(), changed);

      // Settings: admins choose who may use the editor.
      assert.equal(server.services.settings.get().config_editor_access, "admin");
      await page.goto(`${server.url}/settings`);
      await page.waitForSelector('[data-island="settings_form"][data-hydrated="true"]');
      assert.equal(await page.locator('[data-testid="saved-config-editor-access"]').innerText(), "admins only");
      await page.selectOption('[data-testid="setting-config-editor-access"]', "assigned");
      await page.click('[data-testid="save-settings"]');
      await page.locator('[data-testid="saved-config-editor-access"]', { hasText: "admins and assigned users" })
        .waitFor(WAIT);
      assert.equal(server.services.settings.get().config_editor_access, "assigned");
      assert.deepEqual(w.errors, []);
    } finally {
      await w.close();
    }
  },
});
