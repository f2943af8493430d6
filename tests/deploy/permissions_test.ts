import assert from "node:assert/strict";
import denoJson from "../../deno.json" with { type: "json" };
import { ENV_READ } from "../../core/permissions.ts";
import { compileArgs, TARGETS } from "../../scripts/compile_release.ts";

/** The tasks that run the program; each must run it with the same narrow permissions. */
const RUN_TASKS = ["start", "serve", "dev", "cli", "compile"] as const;

function permissionFlags(command: string): string[] {
  return command.split(/\s+/).filter((t) => t === "-A" || t.startsWith("--allow-") || t.startsWith("--deny-"));
}

Deno.test("every task that runs the program, and the binary, use the serve task's narrow permissions", () => {
  const serve = permissionFlags(denoJson.tasks.serve.command);
  for (const task of RUN_TASKS) {
    assert.deepEqual(permissionFlags(denoJson.tasks[task].command), serve, `deno task ${task}`);
  }
  assert.deepEqual(serve.map((f) => f.split("=")[0]).sort(), [
    "--allow-env",
    "--allow-net",
    "--allow-read",
    "--allow-write",
  ], "no --allow-run, --allow-ffi, --allow-sys or --allow-all");
  const env = serve.find((f) => f.startsWith("--allow-env="))?.slice("--allow-env=".length).split(",");
  assert.deepEqual(
    env,
    [...ENV_READ],
    "--allow-env lists exactly the variables read: run `deno task sync-permissions`",
  );
});

Deno.test("every environment variable the code reads is in the allowed list", async () => {
  const read = new Set<string>();
  const pattern = /(?:Deno\.env\.get|\benv)\(\s*"([A-Z][A-Z0-9_]*)"\s*\)/g;
  for (const dir of ["core", "plugins", "routes"]) {
    for await (const file of walk(new URL(`../../${dir}/`, import.meta.url))) {
      for (const [, name] of (await Deno.readTextFile(file)).matchAll(pattern)) read.add(name);
    }
  }
  for (const [, name] of (await Deno.readTextFile(new URL("../../cli.ts", import.meta.url))).matchAll(pattern)) {
    read.add(name);
  }
  assert.ok(read.has("DOCKER_HOST") && read.has("KUBERNETES_SERVICE_HOST"), [...read].join(" "));
  assert.deepEqual([...read].filter((n) => !ENV_READ.includes(n)), [], "read but not allowed");
});

Deno.test("under a narrow --allow-env, libraries see unlisted variables as unset instead of failing", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-env=CLAWORC_PORT",
      "--allow-read",
      new URL("./_env_guard_probe.ts", import.meta.url).pathname,
    ],
    env: { CLAWORC_PORT: "8123", SECRET_OF_THE_HOST: "must-not-be-read" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.ok(out.success, stderr);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), {
    docker: "function",
    allowed: "8123",
    unlisted: null,
    unlistedIn: false,
    keys: ["SET_BY_A_LIBRARY"],
    set: "kept",
    denoSees: "8123",
  });
});

async function* walk(dir: URL): AsyncGenerator<URL> {
  for await (const entry of Deno.readDir(dir)) {
    const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
    if (entry.isDirectory) yield* walk(url);
    else if (/\.tsx?$/.test(entry.name)) yield url;
  }
}

Deno.test("release builds for every target use the compile task's flags", () => {
  const compile = permissionFlags(denoJson.tasks.compile.command);
  for (const target of TARGETS) {
    const args = compileArgs(target);
    assert.equal(args[0], "compile");
    assert.deepEqual(permissionFlags(args.join(" ")), compile, target);
    assert.deepEqual(args.slice(-5), ["--target", target, "--output", `dist/claworc-${target}`, "main.ts"]);
    assert.ok(args.includes("--exclude-unused-npm") && args.includes("--include"), "test tools stay out, assets in");
  }
});

Deno.test("an engine socket outside the allowed paths stops start-up with what to do, not a silent 'no engine'", async () => {
  const dataPath = `./data/test-socket-${crypto.randomUUID().slice(0, 8)}`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "serve"],
    cwd: new URL("../../", import.meta.url),
    env: { CLAWORC_DATA_PATH: dataPath, CLAWORC_PORT: "0", CLAWORC_DOCKER_SOCKET: "/srv/engine/podman.sock" },
    stdout: "null",
    stderr: "piped",
  }).output();
  await Deno.remove(new URL(`../../${dataPath}`, import.meta.url), { recursive: true }).catch(() => {});
  assert.equal(out.code, 2);
  assert.match(
    new TextDecoder().decode(out.stderr),
    /claworc: The engine socket \/srv\/engine\/podman\.sock is outside the paths Claworc may open \(\/var\/run\/docker\.sock, \/run\/podman\/podman\.sock\)\. Link it/,
  );
});
