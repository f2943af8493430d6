import assert from "node:assert/strict";
import { loadConfig } from "../../../core/config.ts";
import { openServices } from "../../../core/boot.ts";
import { silentLogger } from "../../../core/log.ts";
import { Fernet } from "../../../core/secrets/fernet.ts";
import { maskSecret } from "../../../core/secrets/secrets.ts";

const open = (dataPath: string, env: Record<string, string> = {}) =>
  openServices(loadConfig((n) => ({ CLAWORC_DATA_PATH: dataPath, ...env })[n]), { log: silentLogger });

Deno.test("the master key lives in its own 0600 file, never in the database, and round-trips secrets", async () => {
  const dir = await Deno.makeTempDir();
  const data = `${dir}/data`;
  try {
    const s = await open(data);
    assert.equal((await Deno.stat(data)).mode! & 0o777, 0o700);
    assert.equal((await Deno.stat(`${data}/master.key`)).mode! & 0o777, 0o600);
    const key = (await Deno.readTextFile(`${data}/master.key`)).trim();
    const token = await s.secrets.encrypt("sk-live-1234567890");
    assert.equal(await s.secrets.decrypt(token), "sk-live-1234567890");
    s.db.close();
    const dbBytes = new TextDecoder().decode(await Deno.readFile(`${data}/claworc.db`));
    assert.ok(!dbBytes.includes(key), "the key is not in the database file");
    const again = await open(data);
    assert.equal(await again.secrets.decrypt(token), "sk-live-1234567890", "same key after restart");
    again.db.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a lost or different master key stops start-up with a plain message", async () => {
  const dir = await Deno.makeTempDir();
  try {
    (await open(dir)).db.close();
    await Deno.rename(`${dir}/master.key`, `${dir}/master.key.bak`);
    await assert.rejects(open(dir), /master key is missing/);
    await assert.rejects(open(dir, { CLAWORC_SECRET_KEY: Fernet.generateKey() }), /does not match/);
    await assert.rejects(open(dir, { CLAWORC_SECRET_KEY: "short" }), /CLAWORC_SECRET_KEY is not valid/);
    await Deno.rename(`${dir}/master.key.bak`, `${dir}/master.key`);
    (await open(dir)).db.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CLAWORC_SECRET_KEY takes precedence and no key file is written", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const s = await open(dir, { CLAWORC_SECRET_KEY: Fernet.generateKey() });
    s.db.close();
    await assert.rejects(Deno.stat(`${dir}/master.key`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("masked secrets show only the last four characters", () => {
  assert.equal(maskSecret("sk-live-1234567890"), "****7890");
  assert.equal(maskSecret("short"), "****");
});
