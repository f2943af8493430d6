/**
 * Release executables for every target, with the compile task's flags (deno.json), into dist/:
 * `deno run -A scripts/compile_release.ts [--dry-run] [target...]`. Needs a machine that can download
 * Deno's runtime for each target (see docs/release.md).
 */
import denoJson from "../deno.json" with { type: "json" };

export const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
];

/** The `deno compile` arguments of the compile task for one target (its own output file). */
export function compileArgs(target: string): string[] {
  const command = denoJson.tasks.compile.command.split("&&").map((s) => s.trim()).find((s) =>
    s.startsWith("deno compile ")
  );
  if (!command) throw new Error("deno.json's compile task has no `deno compile` step.");
  const tokens = command.split(/\s+/).slice(1);
  const at = tokens.indexOf("--output");
  if (at < 0) throw new Error("deno.json's compile task has no --output.");
  tokens.splice(at, 2, "--target", target, "--output", `dist/claworc-${target}`);
  return tokens;
}

if (import.meta.main) {
  const dryRun = Deno.args.includes("--dry-run");
  const targets = Deno.args.filter((a) => !a.startsWith("--"));
  for (const target of targets.length ? targets : TARGETS) {
    if (!TARGETS.includes(target)) throw new Error(`Unknown target ${target}; one of ${TARGETS.join(", ")}.`);
    const args = compileArgs(target);
    console.log(`deno ${args.join(" ")}`);
    if (dryRun) continue;
    const { success } = await new Deno.Command(Deno.execPath(), { args, stdout: "inherit", stderr: "inherit" })
      .output();
    if (!success) Deno.exit(1);
  }
}
