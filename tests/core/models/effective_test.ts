import assert from "node:assert/strict";
import { effectiveModels, managedConfig, mergeManaged } from "../../../core/models/effective.ts";
import { emptyGlobal, emptyInstance, type GlobalModels } from "../../../core/models/schemas.ts";
import { parseValidatorOutput } from "../../../core/openclaw/validator_output.ts";

const global: GlobalModels = {
  primary: "anthropic/claude-sonnet-4-5",
  fallbacks: ["openai/gpt-5", "fake/m1"],
  custom_providers: [{ id: "fake", label: "", base_url: "http://127.0.0.1:18555/v1", models: ["m1", "m2"] }],
};

Deno.test("effective models: the instance's default and keys win, disabled models drop out, order is kept", () => {
  const eff = effectiveModels(
    global,
    { primary: "fake/m2", extra_models: ["deepseek/deepseek-chat", "openai/gpt-5"], disabled_models: ["fake/m1"] },
    { openai: "g-openai", fake: "g-fake" },
    { fake: "i-fake" },
  );
  assert.deepEqual(eff.models, ["fake/m2", "anthropic/claude-sonnet-4-5", "openai/gpt-5", "deepseek/deepseek-chat"]);
  assert.deepEqual(eff.keys, { openai: "g-openai", fake: "i-fake" });
  // Nothing chosen anywhere: no models, so Claworc leaves the agent's own choice alone.
  assert.deepEqual(effectiveModels(emptyGlobal, emptyInstance, {}, {}).models, []);
});

Deno.test("managed config: keys only as SecretRefs, custom providers in full, brave to the search plugin", () => {
  const m = managedConfig(effectiveModels(global, emptyInstance, { openai: "sk-1", fake: "k", brave: "b" }, {}));
  const ref = (id: string) => ({ source: "file", provider: "claworc", id: `/${id}` });
  assert.deepEqual(m.providers.openai, { apiKey: ref("openai") });
  assert.equal(m.providers.anthropic, undefined, "no key, no entry");
  assert.deepEqual(m.providers.fake, {
    baseUrl: "http://127.0.0.1:18555/v1",
    api: "openai-completions",
    apiKey: ref("fake"),
    models: [{ id: "m1", name: "m1" }, { id: "m2", name: "m2" }],
  });
  assert.deepEqual(m.model, { primary: "anthropic/claude-sonnet-4-5", fallbacks: ["openai/gpt-5", "fake/m1"] });
  assert.deepEqual(m.keyIds.sort(), ["brave", "fake", "openai"]);
  assert.ok(!JSON.stringify(m).includes("sk-1"), "no key value in the config");
});

Deno.test("merge: Claworc's parts replace its old ones, the rest of openclaw.json is kept", () => {
  const current = {
    gateway: { mode: "local", port: 18789 },
    models: { providers: { mine: { baseUrl: "http://x", models: [] }, openai: { apiKey: "old" } } },
    agents: { defaults: { model: { primary: "openai/gpt-5" }, timeoutSeconds: 600 } },
    plugins: { entries: { brave: { config: { webSearch: { apiKey: "x", mode: "web" } } } } },
  };
  const first = managedConfig(effectiveModels(global, emptyInstance, { openai: "k", brave: "b" }, {}));
  const merged = mergeManaged(current, first, []);
  assert.deepEqual((merged.models as { providers: object }).providers, {
    mine: { baseUrl: "http://x", models: [] },
    openai: first.providers.openai,
    fake: first.providers.fake,
  });
  assert.equal((merged.agents as { defaults: { timeoutSeconds: number } }).defaults.timeoutSeconds, 600);
  assert.deepEqual((merged.secrets as { providers: object }).providers, {
    claworc: { source: "file", path: "~/.openclaw/claworc-keys.json", mode: "json" },
  });
  assert.deepEqual(current.models.providers.openai, { apiKey: "old" }, "the input is not changed");

  // Everything removed later: what Claworc owned goes, empty objects with it; the agent's own stays.
  const none = managedConfig(effectiveModels(emptyGlobal, emptyInstance, {}, {}));
  const after = mergeManaged(merged, none, first.owned);
  assert.deepEqual(after.models, { providers: { mine: { baseUrl: "http://x", models: [] } } });
  assert.deepEqual(after.agents, { defaults: { timeoutSeconds: 600 } });
  assert.equal(after.secrets, undefined);
  assert.deepEqual(after.plugins, { entries: { brave: { config: { webSearch: { mode: "web" } } } } });
});

Deno.test("OpenClaw's validator answer is read from its JSON, after any log lines; no JSON is an error", () => {
  const ok = parseValidatorOutput({ stdout: '{"valid":true,"path":"/tmp/x","warnings":[]}\n', stderr: "", code: 0 });
  assert.deepEqual(ok, { valid: true, issues: [], warnings: [] });
  const bad = parseValidatorOutput({
    stdout:
      'note: something\n{\n  "valid": false,\n  "issues": [{"path": "gateway", "message": "Unrecognized key"}]\n}\n',
    stderr: "",
    code: 1,
  });
  assert.deepEqual(bad.issues, [{ path: "gateway", message: "Unrecognized key" }]);
  assert.equal(bad.valid, false);
  assert.throws(
    () => parseValidatorOutput({ stdout: "", stderr: "openclaw: not found", code: 127 }),
    /validator did not answer: openclaw: not found/,
  );
});
