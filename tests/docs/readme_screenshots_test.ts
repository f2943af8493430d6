import assert from "node:assert/strict";
import { SHOTS } from "../_helpers/browser.ts";
import {
  DOCS_SHOTS,
  MAX_HEIGHT,
  MAX_TOTAL_BYTES,
  README_SHOTS,
  SHOTS as SCRIPT_SHOTS,
} from "../../scripts/screenshots.ts";

const root = new URL("../../", import.meta.url);
const listed = new Set(README_SHOTS.map((s) => s.file));

/** Width and height of a PNG, checked by hand: the signature, then IHDR as the first chunk. */
function pngSize(bytes: Uint8Array, name: string): { width: number; height: number } {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  assert.ok(bytes.length > 33, `${name}: too short for a PNG`);
  assert.deepEqual([...bytes.subarray(0, 8)], signature, `${name}: not a PNG signature`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  assert.equal(view.getUint32(8), 13, `${name}: IHDR length`);
  assert.equal(new TextDecoder().decode(bytes.subarray(12, 16)), "IHDR", `${name}: IHDR is not the first chunk`);
  assert.equal(
    new TextDecoder().decode(bytes.subarray(bytes.length - 8, bytes.length - 4)),
    "IEND",
    `${name}: no IEND`,
  );
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/** The browser tests' sources, by path: tests/browser/*.ts and tests/plugins/<name>/browser_test.ts. */
async function browserTests(): Promise<Map<string, string>> {
  const sources = new Map<string, string>();
  for await (const e of Deno.readDir(new URL("tests/browser/", root))) {
    if (e.isFile && e.name.endsWith(".ts")) {
      sources.set(`tests/browser/${e.name}`, await Deno.readTextFile(new URL(`tests/browser/${e.name}`, root)));
    }
  }
  for await (const e of Deno.readDir(new URL("tests/plugins/", root))) {
    const path = `tests/plugins/${e.name}/browser_test.ts`;
    const text = await Deno.readTextFile(new URL(path, root)).catch(() => null);
    if (e.isDirectory && text !== null) sources.set(path, text);
  }
  return sources;
}

/**
 * Whether a test's source saves `<SHOTS>/<name>.png`: literally (`${SHOTS}/name.png`), or through a helper such as
 * `shot = (n) => page.screenshot({ path: `${SHOTS}/prefix-${n}.png` })` called as `shot("rest")`, prefix + rest = name.
 */
function takes(source: string, name: string): boolean {
  if (source.includes(`\${SHOTS}/${name}.png`)) return true;
  for (const [, prefix] of source.matchAll(/\$\{SHOTS\}\/([\w-]*)\$\{\w+\}\.png/g)) {
    if (name.startsWith(prefix) && source.includes(`("${name.slice(prefix.length)}")`)) return true;
  }
  return false;
}

Deno.test("README screenshots: every picture it shows is in docs/screenshots, a sane PNG, and in the script's list", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", root));
  // Images and links to them: ![...](docs/screenshots/x.png), [...](docs/screenshots/x.png), <img src="...">.
  const refs = [...readme.matchAll(/(?:\]\(|src=")docs\/screenshots\/([^\s)"]+)/g)].map((m) => m[1]);
  assert.ok(refs.length >= 3, `the README shows screenshots (found ${refs.length})`);
  assert.match(readme, /`deno task screenshots`/, "the README says how to refresh them");
  for (const file of new Set(refs)) {
    assert.ok(listed.has(file), `README: docs/screenshots/${file} is not in README_SHOTS (scripts/screenshots.ts)`);
    const bytes = await Deno.readFile(new URL(`${DOCS_SHOTS}/${file}`, root)).catch(() => null);
    assert.ok(bytes, `README: docs/screenshots/${file} does not exist; run deno task screenshots`);
    const { width, height } = pngSize(bytes, file);
    assert.ok(width >= 320 && width <= 1920, `${file}: width ${width}`);
    assert.ok(height >= 200 && height <= MAX_HEIGHT, `${file}: height ${height} (at most ${MAX_HEIGHT})`);
  }
});

Deno.test("README screenshots: docs/screenshots holds exactly the script's list, within the size budget", async () => {
  const present = new Map<string, number>();
  for await (const e of Deno.readDir(new URL(`${DOCS_SHOTS}/`, root))) {
    if (e.isFile) present.set(e.name, (await Deno.stat(new URL(`${DOCS_SHOTS}/${e.name}`, root))).size);
  }
  assert.deepEqual([...present.keys()].filter((f) => !listed.has(f)).sort(), [], "files not in README_SHOTS");
  assert.deepEqual([...listed].filter((f) => !present.has(f)).sort(), [], "listed but missing: deno task screenshots");
  for (const file of listed) pngSize(await Deno.readFile(new URL(`${DOCS_SHOTS}/${file}`, root)), file);
  const total = [...present.values()].reduce((a, b) => a + b, 0);
  assert.ok(total <= MAX_TOTAL_BYTES, `docs/screenshots holds ${total} bytes, over ${MAX_TOTAL_BYTES}`);
});

Deno.test("README screenshots: every entry of the list is a shot its browser test really takes", async () => {
  assert.equal(SCRIPT_SHOTS, SHOTS, "the script reads where the browser tests write");
  assert.equal(listed.size, README_SHOTS.length, "file names are unique");
  assert.equal(new Set(README_SHOTS.map((s) => s.source)).size, README_SHOTS.length, "sources are unique");
  const tests = await browserTests();
  assert.ok(tests.size >= 5, `browser tests found (${tests.size})`);
  for (const name of ["no-such-shot", "config-no-such-shot"]) {
    assert.ok(![...tests.values()].some((text) => takes(text, name)), `the check finds no "${name}"`);
  }
  for (const shot of README_SHOTS) {
    assert.match(shot.file, /^[a-z0-9-]+\.png$/, `${shot.file}: a stable lower-case .png name`);
    assert.ok(shot.caption.trim().length > 0, `${shot.file}: a caption`);
    const source = tests.get(shot.test);
    assert.ok(source !== undefined, `${shot.file}: ${shot.test} is not a browser test`);
    const takers = [...tests].filter(([, text]) => takes(text, shot.source)).map(([path]) => path);
    assert.ok(
      takers.includes(shot.test),
      `${shot.file}: ${shot.test} does not take "${shot.source}"` +
        (takers.length ? `; ${takers.join(", ")} does` : "; no browser test does"),
    );
  }
});
