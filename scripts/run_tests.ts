/**
 * `deno task test`: installs what the tests need (Debian's Chromium for browser tests), builds the
 * islands and runs every test with a JUnit report in test-results/junit.xml (`.ci/run` counts it).
 * Under CI=true a missing component is an error, never a skip.
 */
const CI = Deno.env.get("CI") === "true";
const CHROMIUM = "/usr/bin/chromium";

async function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<number> {
  const { code } = await new Deno.Command(cmd, { args, env, stdout: "inherit", stderr: "inherit" }).output();
  return code;
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

async function ensureChromium(): Promise<boolean> {
  if (await exists(CHROMIUM)) return true;
  const isRoot = Deno.uid?.() === 0;
  if (isRoot && await exists("/usr/bin/apt-get")) {
    console.log("Installing Debian's chromium for the browser tests...");
    const env = { DEBIAN_FRONTEND: "noninteractive" };
    if (
      await run("apt-get", ["update", "-qq"], env) === 0 &&
      await run("apt-get", ["install", "-y", "-qq", "chromium"], env) === 0
    ) {
      return true;
    }
  }
  const message = `Chromium is not installed at ${CHROMIUM} (install Debian's "chromium" package).`;
  if (CI) throw new Error(message);
  console.warn(`${message} Browser tests will be skipped; CI=true makes this an error.`);
  return false;
}

const deno = Deno.execPath();
const hasChromium = await ensureChromium();
if (await run(deno, ["task", "build"]) !== 0) Deno.exit(1);
await Deno.mkdir("test-results", { recursive: true });
const junit = "test-results/junit.xml";
const code = await run(deno, [
  "test",
  "-A",
  "--parallel",
  `--junit-path=${junit}`,
  ...(Deno.args.length ? Deno.args : ["tests/"]),
], {
  CLAWORC_TEST_BROWSER: hasChromium ? CHROMIUM : "",
});
Deno.exit(code);
