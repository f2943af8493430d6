/**
 * Bundles every island (islands/*.tsx and plugins/<name>/islands/*.tsx) into static/build/<name>.js,
 * one ES module per island with shared chunks split out. Each generated entry imports the island's
 * default export and hydrates it. Run by `deno task build` (and by `start`/`test` first).
 */
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const entriesDir = join(root, ".cache", "islands");
const outDir = join(root, "static", "build");

async function islandFiles(): Promise<string[]> {
  const dirs = [join(root, "islands")];
  for await (const p of Deno.readDir(join(root, "plugins"))) {
    if (p.isDirectory) dirs.push(join(root, "plugins", p.name, "islands"));
  }
  const files: string[] = [];
  for (const dir of dirs) {
    try {
      for await (const f of Deno.readDir(dir)) {
        if (f.isFile && f.name.endsWith(".tsx") && !f.name.startsWith("_")) files.push(join(dir, f.name));
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return files.sort();
}

const files = await islandFiles();
const names = new Map<string, string>();
await Deno.remove(entriesDir, { recursive: true }).catch(() => {});
await Deno.mkdir(entriesDir, { recursive: true });
const entries: string[] = [];
for (const file of files) {
  const name = basename(file, ".tsx");
  if (names.has(name)) throw new Error(`Two islands are named "${name}": ${names.get(name)} and ${file}.`);
  names.set(name, file);
  const entry = join(entriesDir, `${name}.ts`);
  const hydrate = relative(entriesDir, join(root, "islands", "_hydrate.ts"));
  await Deno.writeTextFile(
    entry,
    `import C from "${relative(entriesDir, file)}";\nimport { hydrateIsland } from "${hydrate}";\nhydrateIsland(${
      JSON.stringify(name)
    }, C);\n`,
  );
  entries.push(entry);
}
await Deno.remove(outDir, { recursive: true }).catch(() => {});
const started = performance.now();
const { code, stderr } = await new Deno.Command(Deno.execPath(), {
  args: [
    "bundle",
    "--quiet",
    "--platform",
    "browser",
    "--format",
    "esm",
    "--code-splitting",
    "--minify",
    "--outdir",
    outDir,
    ...entries,
  ],
  cwd: root,
  stdout: "inherit",
  stderr: "piped",
}).output();
if (code !== 0) {
  console.error(new TextDecoder().decode(stderr));
  Deno.exit(code);
}
console.log(
  `Built ${entries.length} islands into ${relative(root, outDir)} in ${Math.round(performance.now() - started)} ms.`,
);
