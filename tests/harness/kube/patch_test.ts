import assert from "node:assert/strict";
import { jsonPatch, mergePatch, strategicMergePatch } from "./patch.ts";
import { ApiError } from "./status.ts";
import { matchesLabels, parseFieldSelector, parseLabelSelector } from "./selectors.ts";

Deno.test("patch: RFC 7386 merge patch deletes with null and replaces arrays", () => {
  assert.deepEqual(mergePatch({ a: 1, b: { c: 2, d: 3 }, l: [1, 2] }, { a: null, b: { c: 5 }, l: [3] }), {
    b: { c: 5, d: 3 },
    l: [3],
  });
});

Deno.test("patch: strategic merge merges containers by name, env by name, honours $patch delete", () => {
  const spec = {
    containers: [{ name: "a", image: "x", env: [{ name: "K", value: "1" }] }, { name: "b", image: "y" }],
    volumes: [{ name: "v1" }, { name: "v2" }],
    tolerations: [{ key: "t" }],
  };
  const out = strategicMergePatch(spec, {
    containers: [{ name: "a", env: [{ name: "L", value: "2" }] }, { name: "b", $patch: "delete" }],
    volumes: [{ name: "v3" }],
    tolerations: [{ key: "u" }],
    $setElementOrder: { containers: [{ name: "a" }] },
  });
  assert.deepEqual(out, {
    containers: [{ name: "a", image: "x", env: [{ name: "K", value: "1" }, { name: "L", value: "2" }] }],
    volumes: [{ name: "v1" }, { name: "v2" }, { name: "v3" }],
    tolerations: [{ key: "u" }],
  });
  assert.deepEqual(strategicMergePatch({ metadata: { finalizers: ["a"] } }, { metadata: { finalizers: ["b", "a"] } }), {
    metadata: { finalizers: ["a", "b"] },
  });
});

Deno.test("patch: RFC 6902 operations, and failures as the server's 400/422", () => {
  const doc = { a: { b: [1, 2] }, c: "x" };
  assert.deepEqual(
    jsonPatch(doc, [
      { op: "add", path: "/a/b/-", value: 3 },
      { op: "add", path: "/a/b/0", value: 0 },
      { op: "remove", path: "/c" },
      { op: "copy", from: "/a/b", path: "/d" },
      { op: "move", from: "/d", path: "/e" },
      { op: "replace", path: "/a/b/1", value: 9 },
      { op: "test", path: "/e/0", value: 0 },
      { op: "add", path: "/x~1y", value: true },
    ]),
    { a: { b: [0, 9, 2, 3] }, e: [0, 1, 2, 3], "x/y": true },
  );
  assert.deepEqual(doc, { a: { b: [1, 2] }, c: "x" }, "the input is not changed");
  const code = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return e instanceof ApiError ? e.code : -1;
    }
    return 0;
  };
  assert.equal(code(() => jsonPatch(doc, [{ op: "test", path: "/c", value: "y" }])), 422);
  assert.equal(code(() => jsonPatch(doc, [{ op: "remove", path: "/nope" }])), 422);
  assert.equal(code(() => jsonPatch(doc, [{ op: "replace", path: "/a/b/7", value: 1 }])), 422);
  assert.equal(code(() => jsonPatch(doc, { op: "add" })), 400);
});

Deno.test("selectors: equality and set-based label selectors, field selectors", () => {
  const labels = { app: "bot", tier: "web", "claworc.io/instance": "a-1" };
  const match = (s: string) => matchesLabels(parseLabelSelector(s), labels);
  assert.ok(match("app=bot"));
  assert.ok(match("app==bot,tier!=db"));
  assert.ok(match("app in (bot, other),env notin (prod)"));
  assert.ok(match("claworc.io/instance=a-1,!missing,tier"));
  assert.ok(!match("app=other"));
  assert.ok(!match("tier notin (web)"));
  assert.ok(!match("missing"));
  assert.ok(match(""));
  assert.throws(() => parseLabelSelector("app in bot"), (e: ApiError) => e.code === 400);
  assert.deepEqual(parseFieldSelector("metadata.name=x,status.phase!=Running", ["status.phase"], "Pod"), [
    { field: "metadata.name", op: "=", value: "x" },
    { field: "status.phase", op: "!=", value: "Running" },
  ]);
  assert.throws(
    () => parseFieldSelector("spec.foo=1", [], "Pod"),
    (e: ApiError) => e.status.message === "field label not supported: spec.foo",
  );
});
