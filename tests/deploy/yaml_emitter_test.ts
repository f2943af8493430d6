import assert from "node:assert/strict";
import { loadAllYaml, loadYaml } from "@kubernetes/client-node";
import { isPlainSafe, toYaml, toYamlStream, yamlScalar } from "../../core/kube_manifests/yaml.ts";

/** Strings a YAML 1.1 or 1.2 reader would take as something else (or fail on) when unquoted. */
const MUST_QUOTE = [
  "",
  "true",
  "True",
  "FALSE",
  "yes",
  "No",
  "on",
  "OFF",
  "y",
  "N",
  "null",
  "Null",
  "~",
  "8000",
  "0755",
  "0x1F",
  "1e3",
  "-1",
  "+1",
  ".5",
  ".inf",
  "1:20",
  "2024-01-01",
  "a: b",
  "key:",
  "a #b",
  "#c",
  "@x",
  "*x",
  "&x",
  "!x",
  "%x",
  "|x",
  ">x",
  "'x",
  '"x',
  "[a]",
  "{a}",
  "x,y",
  "- a",
  "-",
  "--allow-net",
  "?",
  "=",
  "<<",
  "with space",
  " lead",
  "trail ",
  "multi\nline",
  "tab\there",
  "back\\slash",
];

const PLAIN = [
  "claworc",
  "/health",
  "app.kubernetes.io/name",
  "claworc:0.1.0",
  "localhost/claworc-agent:dev",
  "http://claworc.example.com",
  "ReadWriteOnce",
  "deployments/scale",
  "a-b_c.d",
  "RuntimeDefault",
];

Deno.test("strings YAML would read as booleans, null, numbers or syntax are double-quoted", () => {
  for (const s of MUST_QUOTE) {
    assert.equal(isPlainSafe(s), false, JSON.stringify(s));
    assert.match(yamlScalar(s), /^".*"$/s, JSON.stringify(s));
    assert.deepEqual(loadYaml<{ v: string }>(`v: ${yamlScalar(s)}\n`).v, s, JSON.stringify(s));
  }
});

Deno.test("ordinary names, paths and image references stay plain", () => {
  for (const s of PLAIN) {
    assert.equal(yamlScalar(s), s);
    assert.equal(loadYaml<{ v: string }>(`v: ${s}\n`).v, s);
  }
  // Anything starting with a digit is quoted, even where YAML would keep it a string.
  assert.equal(yamlScalar("10Gi"), '"10Gi"');
  assert.equal(yamlScalar(8000), "8000");
  assert.equal(yamlScalar(0.5), "0.5");
  assert.equal(yamlScalar(true), "true");
  assert.equal(yamlScalar(null), "null");
});

Deno.test("line separators and control characters are escaped inside quotes", () => {
  const s = "a\u2028b\u0085c\ufeffd\u0007";
  const out = yamlScalar(s);
  for (const raw of ["\u2028", "\u0085", "\ufeff", "\u0007"]) assert.ok(!out.includes(raw), out);
  assert.equal(loadYaml<{ v: string }>(`v: ${out}\n`).v, s);
});

Deno.test("nested maps, arrays, empty values and awkward strings read back unchanged", () => {
  const value = {
    name: "claworc",
    port: 8000,
    ratio: 0.25,
    enabled: false,
    nothing: null,
    empty: {},
    none: [],
    "key with space": "v",
    "8000": "numeric key",
    list: ["a", "true", 1, [2, ["3", []]], { k: "v", nested: { deep: ["x"] } }, {}],
    maps: [{ a: 1, b: [{ c: "yes" }] }],
    text: "line one\nline two: with colon # and hash",
    unicode: "héllo ✓",
  };
  const yaml = toYaml(value);
  assert.deepEqual(loadYaml(yaml), value);
  // Insertion order is kept: the output is deterministic and reads like a hand-written manifest.
  assert.deepEqual(
    yaml.split("\n").filter((l) => /^\S/.test(l)).map((l) => l.split(":")[0]),
    Object.keys(value).map((k) => yamlScalar(k)),
  );
});

Deno.test("undefined map values are left out; values YAML cannot hold are refused", () => {
  assert.equal(toYaml({ a: 1, b: undefined }), "a: 1\n");
  assert.throws(() => toYaml({ list: [1, undefined] }), /undefined.*list\[1\]/);
  assert.throws(() => toYaml({ n: NaN }), /Cannot write NaN/);
  assert.throws(() => toYaml({ when: new Date(0) }), /Cannot write object as YAML \(at when\)/);
  assert.throws(() => toYaml({ f: () => 1 }), /Cannot write function/);
});

Deno.test("a stream has its header comments, then each document after ---", () => {
  const out = toYamlStream(
    [{ value: { kind: "A", count: 1 } }, { comment: ["second", ""], value: ["x", "z"] }, { value: "plain" }],
    ["header line", "  indented"],
  );
  assert.equal(
    out,
    "# header line\n#   indented\n---\nkind: A\ncount: 1\n---\n# second\n#\n- x\n- z\n---\nplain\n",
  );
  assert.deepEqual(loadAllYaml(out), [{ kind: "A", count: 1 }, ["x", "z"], "plain"]);
  assert.throws(() => toYamlStream([{ comment: ["a\nkind: injected"], value: {} }]), /line break/);
});
