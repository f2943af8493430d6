import assert from "node:assert/strict";
import { CONFIG_VARIABLES } from "../../core/config.ts";

/** The README's configuration table lists every variable the program reads, with its real default, and no other. */
Deno.test("README: the configuration table matches the configuration schema", async () => {
  const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
  const rows = new Map<string, string>();
  for (const [, name, def] of readme.matchAll(/^\| `(CLAWORC_[A-Z_]+)` +\| ([^|]+?) +\|/gm)) rows.set(name, def.trim());
  assert.ok(rows.size > 0, "the table was found");
  const names = Object.keys(CONFIG_VARIABLES);
  assert.deepEqual([...rows.keys()].filter((n) => !names.includes(n)), [], "rows for variables that do not exist");
  assert.deepEqual(names.filter((n) => !rows.has(n)), [], "variables missing from the README");
  for (const [name, spec] of Object.entries(CONFIG_VARIABLES)) {
    const shown = rows.get(name)!;
    const expected = spec.default === "" ? "—" : `\`${spec.default}\``;
    assert.equal(shown, expected, `${name}: the README says ${shown}, the program defaults to ${expected}`);
  }
});
