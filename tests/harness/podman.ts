/**
 * Podman as the Docker engine for tests (no Docker daemon exists on these machines; environment.md).
 * Private configuration and storage under a machine-level cache folder, so images (the debootstrap
 * base, the agent image) survive between runs and clean clones; nothing depends on that cache.
 */
import { join } from "node:path";

/** Where podman keeps images and containers for the tests (outside the repo, kept between runs). */
export const PODMAN_HOME = Deno.env.get("CLAWORC_PODMAN_HOME") ?? "/var/cache/claworc-test/podman";

export interface PodmanService {
  /** `unix:///...` socket speaking the Docker API. */
  socketPath: string;
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** The settings this machine needs (environment.md): runc, cgroupfs, file events, explicit ulimits. */
export async function writePodmanConfig(home = PODMAN_HOME): Promise<Record<string, string>> {
  await Deno.mkdir(join(home, "storage"), { recursive: true });
  await Deno.mkdir(join(home, "run"), { recursive: true });
  const containersConf = join(home, "containers.conf");
  const storageConf = join(home, "storage.conf");
  await Deno.writeTextFile(
    containersConf,
    [
      "[containers]",
      'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]',
      "[engine]",
      'runtime = "runc"',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      `tmp_dir = "${join(home, "run", "tmp")}"`,
      "",
    ].join("\n"),
  );
  await Deno.writeTextFile(
    storageConf,
    [
      "[storage]",
      'driver = "overlay"',
      `graphroot = "${join(home, "storage")}"`,
      `runroot = "${join(home, "run", "storage")}"`,
      "",
    ].join("\n"),
  );
  return { CONTAINERS_CONF: containersConf, CONTAINERS_STORAGE_CONF: storageConf };
}

/** Runs `podman` with the test configuration; throws with its stderr on failure. */
export async function podman(args: string[], env: Record<string, string>, stdin?: Uint8Array): Promise<string> {
  const child = new Deno.Command("podman", {
    args,
    env,
    stdin: stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin) {
    const w = child.stdin.getWriter();
    await w.write(stdin);
    await w.close();
  }
  const out = await child.output();
  if (!out.success) throw new Error(`podman ${args.join(" ")}: ${new TextDecoder().decode(out.stderr).trim()}`);
  return new TextDecoder().decode(out.stdout);
}

/**
 * Starts `podman system service` on a private socket (or `socketPath`, to restart an engine where a
 * control plane expects it) and waits until `/_ping` answers.
 */
export async function startPodman(home = PODMAN_HOME, fixedSocket?: string): Promise<PodmanService> {
  const env = await writePodmanConfig(home);
  const dir = fixedSocket ? null : await Deno.makeTempDir({ prefix: "claworc-podman-" });
  const socketPath = fixedSocket ?? join(dir!, "podman.sock");
  const child = new Deno.Command("podman", {
    args: ["system", "service", "--time=0", `unix://${socketPath}`],
    env,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const started = performance.now();
  while (performance.now() - started < 15_000) {
    try {
      const conn = await Deno.connect({ transport: "unix", path: socketPath });
      await conn.write(new TextEncoder().encode("GET /_ping HTTP/1.0\r\nHost: podman\r\n\r\n"));
      const buf = new Uint8Array(256);
      const n = await conn.read(buf);
      conn.close();
      if (n && new TextDecoder().decode(buf.subarray(0, n)).includes(" 200 ")) {
        return {
          socketPath,
          env,
          async stop() {
            try {
              child.kill("SIGTERM");
            } catch { /* already stopped */ }
            await child.status;
            await child.stderr.cancel().catch(() => {});
            if (dir) await Deno.remove(dir, { recursive: true }).catch(() => {});
          },
        };
      }
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill("SIGKILL");
  const err = new TextDecoder().decode((await child.output()).stderr);
  throw new Error(`podman system service did not answer within 15 s: ${err}`);
}
