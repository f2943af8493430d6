import { join } from "node:path";
import { type Config } from "./config.ts";
import { Database } from "./db/database.ts";
import { createLogger, type Logger } from "./log.ts";
import { type Clock, systemClock } from "./clock.ts";
import { hasKeyCheck, verifyMasterKey } from "./secrets/key_check.ts";
import { loadMasterKey } from "./secrets/master_key.ts";
import { Secrets } from "./secrets/secrets.ts";
import { type CoreServices, createServices, type ServiceParts } from "./services.ts";
import { SshKeyStore } from "./ssh/key_store.ts";
import type { SshOptions } from "./ssh/options.ts";

export const DATABASE_FILE = "claworc.db";

/** Creates the data folder (0700) if missing; refuses a data path that is a file. */
export async function prepareDataDir(path: string, log: Logger): Promise<void> {
  try {
    const info = await Deno.stat(path);
    if (!info.isDirectory) throw new Error(`CLAWORC_DATA_PATH=${path} is not a folder.`);
    if (info.mode !== null && (info.mode & 0o077) !== 0) {
      log.warn("data folder is readable by other users; run chmod 700 on it", { path });
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    await Deno.mkdir(path, { recursive: true, mode: 0o700 });
    await Deno.chmod(path, 0o700);
  }
}

/**
 * Opens the database, applies migrations, loads and checks the master key, and builds the services.
 * Everything the server and the CLI share; nothing listens yet.
 */
export async function openServices(
  config: Config,
  options: { log?: Logger; clock?: Clock; ssh?: Partial<SshOptions>; agentConfig?: ServiceParts["agentConfig"] } = {},
): Promise<CoreServices> {
  const log = options.log ?? createLogger(config.logLevel);
  await prepareDataDir(config.dataPath, log);
  const db = new Database(join(config.dataPath, DATABASE_FILE));
  try {
    const applied = db.migrate();
    if (applied.length) log.info("database migrated", { applied, version: db.schemaVersion() });
    const { fernet, source } = await loadMasterKey(config.dataPath, config.secretKey, !hasKeyCheck(db));
    if (source === "new-key-file") {
      log.warn("created a new master key; back it up with the database, secrets are unreadable without it", {
        file: join(config.dataPath, "master.key"),
      });
    }
    await verifyMasterKey(db, fernet);
    const sshKeys = await SshKeyStore.open(config.dataPath);
    return createServices(config, db, {
      secrets: new Secrets(fernet),
      sshKeys,
      log,
      clock: options.clock ?? systemClock,
      ssh: options.ssh,
      agentConfig: options.agentConfig,
    });
  } catch (e) {
    db.close();
    throw e;
  }
}
