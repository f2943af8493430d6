/**
 * `deno task test`: installs what the tests need (Chromium, OpenSSH, Podman, debootstrap...), builds the
 * islands and runs every test with a JUnit report in test-results/junit.xml (`.ci/run` counts it).
 * Under CI=true a missing component is an error, never a skip.
 */
import { podman, writePodmanConfig } from "../tests/harness/podman.ts";

const CI = Deno.env.get("CI") === "true";
/** Anything in the tests' own Podman store older than this was left by an earlier, interrupted run. */
const LEFTOVER_AGE_S = 2 * 3600;
const CHROMIUM = "/usr/bin/chromium";

/** Debian packages the tests drive for real, and a file that proves each is installed. */
const NEEDED: { pkg: string; file: string; usedFor: string }[] = [
  { pkg: "chromium", file: CHROMIUM, usedFor: "browser tests" },
  { pkg: "openssh-server", file: "/usr/sbin/sshd", usedFor: "SSH tests against a real sshd" },
  { pkg: "openssh-client", file: "/usr/bin/ssh-keygen", usedFor: "fingerprint checks and the OpenSSH benchmarks" },
  { pkg: "iproute2", file: "/usr/sbin/ip", usedFor: "network-cut tests in network namespaces" },
  // Podman stands in for the Docker engine (environment.md lists what it needs here).
  ...["podman", "runc", "netavark", "aardvark-dns", "fuse-overlayfs", "slirp4netns", "uidmap", "iptables", "catatonit"]
    .map((pkg) => ({ pkg, file: `/usr/share/doc/${pkg}/copyright`, usedFor: "container tests on Podman" })),
  { pkg: "containernetworking-plugins", file: "/usr/lib/cni/bridge", usedFor: "container tests on Podman" },
  { pkg: "debootstrap", file: "/usr/sbin/debootstrap", usedFor: "building the offline base image" },
];

async function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<number> {
  const { code } = await new Deno.Command(cmd, { args, env, stdout: "inherit", stderr: "inherit" }).output();
  return code;
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/** Installs missing packages with apt (as root); returns the ones still missing. */
async function ensurePackages(): Promise<string[]> {
  const missing = [];
  for (const n of NEEDED) if (!await exists(n.file)) missing.push(n);
  if (missing.length && Deno.uid?.() === 0 && await exists("/usr/bin/apt-get")) {
    const pkgs = missing.map((m) => m.pkg);
    console.log(`Installing Debian packages for the tests: ${pkgs.join(", ")}...`);
    const env = { DEBIAN_FRONTEND: "noninteractive" };
    if (await run("apt-get", ["update", "-qq"], env) === 0) {
      await run("apt-get", ["install", "-y", "-qq", ...pkgs], env);
    }
  }
  const still = [];
  for (const n of missing) if (!await exists(n.file)) still.push(n);
  for (const n of still) {
    const message = `${n.file} is missing (Debian package "${n.pkg}", needed for ${n.usedFor}).`;
    if (CI) throw new Error(message);
    console.warn(`${message} Those tests will fail or be skipped; CI=true makes this an error.`);
  }
  return still.map((n) => n.pkg);
}

/**
 * Removes what interrupted runs left in the tests' private Podman store (containers whose processes
 * are gone but are still listed as running, their networks with routes and firewall rules, anonymous
 * volumes): over many runs they pile up and take addresses. Only things older than LEFTOVER_AGE_S go,
 * so a run going on next to this one keeps its own. Images stay (they are the cache).
 */
async function removeLeftovers(): Promise<void> {
  const env = await writePodmanConfig();
  const now = Date.now() / 1000;
  const containers = JSON.parse(await podman(["ps", "-a", "--format", "json"], env)) as {
    Id: string;
    Names: string[];
    Created: number;
  }[];
  const old = containers.filter((c) => now - c.Created > LEFTOVER_AGE_S);
  for (const c of old) await podman(["rm", "--force", "--time", "0", c.Id], env).catch(() => {});
  const until = `until=${LEFTOVER_AGE_S / 3600}h`;
  await podman(["network", "prune", "--force", "--filter", until], env).catch(() => {});
  await podman(["volume", "prune", "--force", "--filter", until], env).catch(() => {});
  if (old.length) {
    console.log(`Removed ${old.length} leftover test containers: ${old.map((c) => c.Names[0]).join(", ")}`);
  }
}

const deno = Deno.execPath();
const hasChromium = !(await ensurePackages()).includes("chromium");
await removeLeftovers().catch((e) => console.warn(`Leftovers of earlier runs stay: ${(e as Error).message}`));
if (await run(deno, ["task", "build"]) !== 0) Deno.exit(1);
await Deno.mkdir("test-results", { recursive: true });
const junit = "test-results/junit.xml";
const code = await run(deno, [
  "test",
  "-A",
  "--parallel",
  // Lets memory tests collect garbage before measuring what is really held.
  "--v8-flags=--expose-gc",
  `--junit-path=${junit}`,
  ...(Deno.args.length ? Deno.args : ["tests/"]),
], {
  CLAWORC_TEST_BROWSER: hasChromium ? CHROMIUM : "",
});
Deno.exit(code);
