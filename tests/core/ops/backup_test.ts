import assert from "node:assert/strict";
import { join } from "node:path";
import { BackupError, createBackup, restoreBackup } from "../../../core/ops/backup.ts";
import { Database } from "../../../core/db/database.ts";
import { testApp } from "../../_helpers/harness.ts";
import { loadConfig } from "../../../core/config.ts";
import { openServices } from "../../../core/boot.ts";
import { silentLogger } from "../../../core/log.ts";

const KEY = "x".repeat(43) + "=";

/** A data folder with a user, an encrypted provider key and the SSH pair, as a running control plane leaves it. */
async function populated(env: Record<string, string> = {}) {
  const t = await testApp({ CLAWORC_SECRET_KEY: KEY, ...env }, undefined, { dataPath: await Deno.makeTempDir() });
  const admin = await t.setupAdmin();
  const res = await t.request("PUT", "/api/v1/models", {
    cookie: admin,
    body: { keys: { openai: "sk-backup-test-1234" } },
  });
  assert.equal(res.status, 200, await res.text());
  return t;
}

const reopen = (dataPath: string, secretKey = KEY) =>
  openServices(loadConfig((n) => ({ CLAWORC_DATA_PATH: dataPath, CLAWORC_SECRET_KEY: secretKey })[n]), {
    log: silentLogger,
  });

Deno.test("backup while running, restore elsewhere: users, secrets and the SSH identity come back", async () => {
  const t = await populated();
  const out = await Deno.makeTempDir();
  const target = await Deno.makeTempDir();
  try {
    const file = join(out, "claworc.backup");
    const manifest = await createBackup(t.dataPath, file);
    assert.deepEqual(manifest.files.sort(), ["claworc.db", "ssh_key", "ssh_key.pub"]);
    assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
    assert.ok(!new TextDecoder("latin1").decode(await Deno.readFile(file)).includes(KEY), "no master key inside");
    await assert.rejects(createBackup(t.dataPath, file), /exists; choose a new file name/);

    const restored = await restoreBackup(target, file, { secretKey: KEY });
    assert.equal(restored.schema_version, manifest.schema_version);
    assert.equal((await Deno.stat(join(target, "ssh_key"))).mode! & 0o777, 0o600);
    const s = await reopen(target);
    try {
      assert.deepEqual(s.users.list().map((u) => u.username), ["admin"]);
      assert.equal(s.sshKeys.fingerprint(), t.services.sshKeys.fingerprint());
      const keys = await s.models.keys(null);
      assert.equal(keys.openai, "sk-backup-test-1234", "secrets decrypt with the same master key");
    } finally {
      s.db.close();
    }

    // Into a folder that has a database: refused, then replaced with --force (the old one kept).
    await assert.rejects(
      restoreBackup(target, file, { secretKey: KEY }),
      /exists; stop the control plane and add --force/,
    );
    await restoreBackup(target, file, { secretKey: KEY, force: true });
    assert.equal([...Deno.readDirSync(target)].filter((e) => /\.replaced-\d{8}T\d{6}\.bak$/.test(e.name)).length, 1);
  } finally {
    await t.close();
    for (const d of [t.dataPath, out, target]) await Deno.remove(d, { recursive: true });
  }
});

Deno.test("restore refuses a wrong master key, a newer schema, damage and files that are not backups", async () => {
  const t = await populated();
  const out = await Deno.makeTempDir();
  try {
    const file = join(out, "b.tar");
    await createBackup(t.dataPath, file);
    const fresh = () => Deno.makeTempDir();
    const refused = async (path: string, message: RegExp, secretKey: string | null = KEY) => {
      const dir = await fresh();
      await assert.rejects(
        restoreBackup(dir, path, { secretKey }),
        (e) => e instanceof BackupError && message.test(e.message),
      );
      assert.ok(!(await Deno.stat(join(dir, "claworc.db")).then(() => true, () => false)), "nothing restored");
    };
    await refused(file, /does not match/, "y".repeat(43) + "=");
    await refused(file, /master key is missing/, null);
    await refused(join(out, "missing.tar"), /does not exist/);
    await Deno.writeTextFile(join(out, "junk.tar"), "not a tar at all".repeat(100));
    await refused(join(out, "junk.tar"), /not a readable backup|no readable manifest|not a Claworc backup/);

    // A database from a newer release.
    const newer = join(t.dataPath, "newer.db");
    await t.services.db.copyTo(newer);
    const db = new Database(newer);
    db.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 'x')");
    db.close();
    const dir = await fresh();
    await Deno.copyFile(newer, join(dir, "claworc.db"));
    const newerBackup = join(out, "newer.tar");
    await createBackup(dir, newerBackup);
    await refused(newerBackup, /newer Claworc \(schema 999/);
  } finally {
    await t.close();
    for (const d of [t.dataPath, out]) await Deno.remove(d, { recursive: true });
  }
});
