import assert from "node:assert/strict";
import { jsonSyntaxError, syntaxIssue } from "../../../plugins/config/json_check.ts";
import { localIssue } from "../../../plugins/config/api.ts";
import { managedPaths } from "../../../plugins/config/managed.ts";

Deno.test("config JSON check: valid objects pass, whatever their nesting and content", () => {
  for (
    const ok of [
      "{}",
      ' \n{ "a": 1 }\n',
      '{"a":[1,-2.5e3,0,0.1,true,false,null,"x\\"y\\\\z\\u00e9\\n"],"b":{"c":{}},"d":[]}',
      `{"deep":${"[".repeat(50_000)}${"]".repeat(50_000)}}`,
      '{"emoji":"🦞","tab":"\\t"}',
    ]
  ) {
    assert.equal(jsonSyntaxError(ok), null, ok.slice(0, 60));
    assert.doesNotThrow(() => JSON.parse(ok));
  }
});

Deno.test("config JSON check: the first mistake with its line, column and a plain message", () => {
  const cases: [string, number, number, RegExp][] = [
    ['{\n  "gateway": {\n    "mode": "local",\n  }\n}', 4, 3, /property name.*trailing commas are not JSON/],
    ['{"a": [1, 2,]}', 1, 13, /expected a value after ",".*trailing commas/],
    ['{\n  // note\n  "a": 1\n}', 2, 3, /comments are JSON5; Claworc needs plain JSON/],
    ["{'a': 1}", 1, 2, /single quote/],
    ['{"a": 1 "b": 2}', 1, 9, /expected "," or "}", found a double quote \(a missing comma\?\)/],
    ['{"a": 1}}', 1, 9, /nothing after the closing brace/],
    ['{"a": 1', 1, 8, /expected "," or "}", found the end of the text/],
    ['{"a": "open\n}', 1, 12, /line break inside a string/],
    ['{"a": 01}', 1, 7, /invalid number "01"/],
    ['{"a": tru}', 1, 7, /expected a value/],
    ['{"a": "\\x"}', 1, 8, /invalid escape/],
    ["[1, 2]", 1, 1, /must hold one JSON object/],
    ["  \n ", 2, 2, /empty/],
    ['{"a": NaN}', 1, 7, /expected a value/],
  ];
  for (const [text, line, column, message] of cases) {
    const e = jsonSyntaxError(text);
    assert.ok(e, `no error found in ${JSON.stringify(text)}`);
    assert.deepEqual([e.line, e.column], [line, column], `position in ${JSON.stringify(text)}: ${e.message}`);
    assert.match(e.message, message, JSON.stringify(text));
    assert.throws(() => {
      const v = JSON.parse(text);
      if (!v || typeof v !== "object" || Array.isArray(v)) throw new Error("not an object");
    }, `JSON.parse agrees that ${JSON.stringify(text)} is no JSON object`);
  }
});

Deno.test("config JSON check: the API's issue names <root> with the line and column", () => {
  const e = jsonSyntaxError('{\n  "a": 1,\n}')!;
  assert.deepEqual(syntaxIssue(e), {
    path: "<root>",
    message: 'JSON syntax error at line 3 column 1: expected a property name after ",", found "}" ' +
      "(trailing commas are not JSON)",
  });
  assert.deepEqual(localIssue('{\n  "a": 1,\n}'), syntaxIssue(e));
  assert.equal(localIssue('{"a": 1}'), null);
});

Deno.test("config managed paths: what the models feature owns, as openclaw.json paths", () => {
  assert.deepEqual(managedPaths(["provider:openai", "provider:my-llm", "model", "search", "secrets", "other"]), [
    "models.providers.openai",
    "models.providers.my-llm",
    "agents.defaults.model",
    "plugins.entries.brave.config.webSearch.apiKey",
    "secrets.providers.claworc",
  ]);
  assert.deepEqual(managedPaths([]), []);
});
