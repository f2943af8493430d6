import assert from "node:assert/strict";
import { join } from "node:path";
import { type Check, diagnose } from "../../../core/ops/doctor.ts";
import { loadConfig } from "../../../core/config.ts";
import type { RuntimeBackend } from "../../../core/plugins/runtime_backend.ts";
import { testApp } from "../../_helpers/harness.ts";

const configFor = (dataPath: string, env: Record<string, string> = {}) =>
  loadConfig((n) => ({ CLAWORC_DATA_PATH: dataPath, ...env })[n]);
const byName = (checks: Check[]) => Object.fromEntries(checks.map((c) => [c.name, c]));
/** Just enough of a backend for the doctor: does the engine answer, does it have the image. */
const engine = (up: boolean, image: boolean) =>
  ({
    name: "docker",
    location: "/run/test.sock",
    available: () => Promise.resolve(up),
    hasImage: () => Promise.resolve(image),
  }) as unknown as RuntimeBackend;

Deno.test("doctor: a fresh machine gets warnings with how to start, nothing fails and nothing is created", async () => {
  const dir = join(await Deno.makeTempDir(), "not-yet");
  const checks = byName(await diagnose(configFor(dir), undefined));
  assert.equal(checks["data folder"].status, "warn");
  assert.equal(checks["database"].status, "warn");
  assert.equal(checks["SSH key"].status, "warn");
  assert.ok(Object.values(checks).every((c) => c.status !== "fail"));
  assert.equal(await Deno.stat(dir).then(() => true, () => false), false, "the doctor created nothing");
});

Deno.test("doctor: a healthy data folder passes; each broken part fails with its fix", async () => {
  const t = await testApp({}, undefined, { dataPath: await Deno.makeTempDir() });
  const dir = t.dataPath;
  try {
    await t.setupAdmin();
    await t.close();
    const https = { CLAWORC_PUBLIC_URL: "https://claworc.example.com" };
    let checks = byName(await diagnose(configFor(dir, https), engine(true, true)));
    for (
      const name of ["data folder", "database", "master key", "clock", "SSH key", "runtime backend", "agent image"]
    ) {
      assert.equal(checks[name].status, "ok", `${name}: ${checks[name].detail}`);
    }
    assert.equal(checks["public URL and passkeys"].status, "ok");
    assert.match(checks["SSH key"].detail, /^ED25519 SHA256:/);

    checks = byName(
      await diagnose(configFor(dir, { CLAWORC_PUBLIC_URL: "http://claworc.example.com" }), engine(false, true)),
    );
    assert.equal(checks["runtime backend"].status, "fail");
    assert.equal(checks["public URL and passkeys"].status, "warn");
    assert.match(checks["public URL and passkeys"].detail, /refuse passkeys/);
    checks = byName(await diagnose(configFor(dir), engine(true, false)));
    assert.equal(checks["agent image"].status, "fail");
    assert.match(checks["agent image"].fix!, /build:agent/);
    checks = byName(await diagnose(configFor(dir), null));
    assert.equal(checks["runtime backend"].status, "fail");

    // The wrong master key, a clock behind the audit log, a private key others can read.
    checks = byName(await diagnose(configFor(dir, { CLAWORC_SECRET_KEY: "y".repeat(43) + "=" }), undefined));
    assert.equal(checks["master key"].status, "fail");
    checks = byName(await diagnose(configFor(dir), undefined, Date.parse("2020-01-01T00:00:00Z")));
    assert.equal(checks["clock"].status, "fail");
    await Deno.chmod(join(dir, "ssh_key"), 0o644);
    assert.equal(byName(await diagnose(configFor(dir), undefined))["SSH key"].status, "fail");
    await Deno.chmod(join(dir, "ssh_key"), 0o600);

    // A damaged database.
    await Deno.writeTextFile(join(dir, "claworc.db"), "this is not a database ".repeat(500));
    for (const side of ["-wal", "-shm"]) await Deno.remove(join(dir, "claworc.db" + side)).catch(() => {});
    checks = byName(await diagnose(configFor(dir), undefined));
    assert.equal(checks["database"].status, "fail");
    assert.match(checks["database"].fix!, /backup/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
