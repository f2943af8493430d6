// @ts-types="npm:@types/tar-stream@3.1.5"
import { extract, pack } from "tar-stream";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { Database, fileStamp } from "../db/database.ts";
import { MIGRATIONS } from "../db/migrations.ts";
import { DATABASE_FILE } from "../boot.ts";
import { VERSION } from "../version.ts";
import { hasKeyCheck, verifyMasterKey } from "../secrets/key_check.ts";
import { loadMasterKey } from "../secrets/master_key.ts";
import {
  PREVIOUS_PRIVATE_KEY_FILE,
  PREVIOUS_PUBLIC_KEY_FILE,
  PRIVATE_KEY_FILE,
  PUBLIC_KEY_FILE,
} from "../ssh/key_store.ts";

/** What a backup holds besides its files (`manifest.json`, first in the archive). */
export interface BackupManifest {
  format: "claworc-backup";
  format_version: 1;
  claworc_version: string;
  schema_version: number;
  created_at: string;
  files: string[];
}

/** The files a backup carries, with the mode each is restored with. The master key is never one of them. */
const FILES: Record<string, number> = {
  [DATABASE_FILE]: 0o600,
  [PRIVATE_KEY_FILE]: 0o600,
  [PUBLIC_KEY_FILE]: 0o644,
  [PREVIOUS_PRIVATE_KEY_FILE]: 0o600,
  [PREVIOUS_PUBLIC_KEY_FILE]: 0o644,
};

/** A backup or restore that cannot be done, with what to do about it. */
export class BackupError extends Error {}

const readIfThere = (path: string) =>
  Deno.readFile(path).catch((e) => {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  });

/**
 * Writes a backup of the data folder to `output` (a tar file, 0600): a consistent online copy of the
 * database (SQLite `VACUUM INTO`, safe while the control plane runs) and the SSH key pair(s). The master
 * key is left out on purpose: it must be kept apart from the data it protects.
 */
export async function createBackup(dataPath: string, output: string): Promise<BackupManifest> {
  const dbPath = join(dataPath, DATABASE_FILE);
  if (!await Deno.stat(dbPath).then(() => true, () => false)) {
    throw new BackupError(`No database at ${dbPath}: nothing to back up (is CLAWORC_DATA_PATH right?).`);
  }
  const copy = join(dataPath, `.backup-${crypto.randomUUID()}.db`);
  const db = new Database(dbPath);
  let schema: number;
  try {
    schema = db.schemaVersion();
    await db.copyTo(copy);
  } finally {
    db.close();
  }
  try {
    const contents = new Map<string, Uint8Array>();
    contents.set(DATABASE_FILE, await Deno.readFile(copy));
    for (const name of Object.keys(FILES).filter((f) => f !== DATABASE_FILE)) {
      const data = await readIfThere(join(dataPath, name));
      if (data) contents.set(name, data);
    }
    const manifest: BackupManifest = {
      format: "claworc-backup",
      format_version: 1,
      claworc_version: VERSION,
      schema_version: schema,
      created_at: new Date().toISOString(),
      files: [...contents.keys()],
    };
    const archive = pack();
    archive.entry({ name: "manifest.json", mode: 0o600 }, JSON.stringify(manifest, null, 2) + "\n");
    for (const [name, data] of contents) archive.entry({ name, mode: FILES[name] }, Buffer.from(data));
    archive.finalize();
    const file = await Deno.open(output, { write: true, createNew: true, mode: 0o600 }).catch((e) => {
      if (e instanceof Deno.errors.AlreadyExists) throw new BackupError(`${output} exists; choose a new file name.`);
      throw e;
    });
    try {
      for await (const chunk of archive) await writeAll(file, chunk as Uint8Array);
    } finally {
      file.close();
    }
    return manifest;
  } finally {
    await Deno.remove(copy).catch(() => {});
  }
}

async function writeAll(file: Deno.FsFile, data: Uint8Array): Promise<void> {
  for (let at = 0; at < data.length;) at += await file.write(data.subarray(at));
}

/** Reads a backup archive (small files only: the database and keys), refusing anything unexpected. */
async function readArchive(input: string): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  const reader = extract();
  const source = await Deno.open(input, { read: true });
  const feeding = (async () => {
    try {
      for await (const chunk of source.readable) reader.write(Buffer.from(chunk));
      reader.end();
    } catch (e) {
      reader.destroy(e as Error);
    }
  })();
  for await (const entry of reader) {
    const name = entry.header.name;
    if (name !== "manifest.json" && !(name in FILES)) {
      throw new BackupError(`${input} holds an unexpected file "${name.slice(0, 80)}"; not a Claworc backup.`);
    }
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(c as Buffer);
    files.set(name, Buffer.concat(chunks));
  }
  await feeding;
  return files;
}

/**
 * Restores a backup into `dataPath` after checking it: the manifest, the database's integrity, a schema
 * this release can run (a newer one is refused), and that the master key in place (CLAWORC_SECRET_KEY or
 * the key file) opens its secrets. An existing database is refused unless `force`, and then kept beside
 * the restored one. Run it with the control plane stopped.
 */
export async function restoreBackup(
  dataPath: string,
  input: string,
  opts: { force?: boolean; secretKey: string | null },
): Promise<BackupManifest> {
  let files: Map<string, Uint8Array>;
  try {
    files = await readArchive(input);
  } catch (e) {
    if (e instanceof BackupError) throw e;
    if (e instanceof Deno.errors.NotFound) throw new BackupError(`${input} does not exist.`);
    throw new BackupError(`${input} is not a readable backup archive (${(e as Error).message}).`);
  }
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(new TextDecoder().decode(files.get("manifest.json")));
  } catch {
    throw new BackupError(`${input} has no readable manifest.json; not a Claworc backup.`);
  }
  if (manifest?.format !== "claworc-backup" || manifest.format_version !== 1) {
    throw new BackupError(`${input} is not a Claworc backup this release understands.`);
  }
  const db = files.get(DATABASE_FILE);
  if (!db) throw new BackupError(`${input} holds no database.`);
  const latest = MIGRATIONS.at(-1)!.version;
  if (manifest.schema_version > latest) {
    throw new BackupError(
      `This backup comes from a newer Claworc (schema ${manifest.schema_version}, ${manifest.claworc_version}); ` +
        `this release runs schema ${latest}. Upgrade Claworc first.`,
    );
  }
  await Deno.mkdir(dataPath, { recursive: true, mode: 0o700 });
  const staged = join(dataPath, `.restore-${crypto.randomUUID()}.db`);
  await Deno.writeFile(staged, db, { mode: 0o600 });
  try {
    const check = new Database(staged);
    try {
      const integrity = check.get<{ integrity_check: string }>("PRAGMA integrity_check")?.integrity_check;
      if (integrity !== "ok") throw new BackupError(`The backup's database is damaged: ${integrity}.`);
      if (check.schemaVersion() !== manifest.schema_version) {
        throw new BackupError("The backup's manifest and database disagree on the schema version.");
      }
      if (hasKeyCheck(check)) {
        let fernet;
        try {
          ({ fernet } = await loadMasterKey(dataPath, opts.secretKey, false));
        } catch (e) {
          throw new BackupError((e as Error).message);
        }
        await verifyMasterKey(check, fernet).catch((e) => {
          throw new BackupError((e as Error).message);
        });
      }
    } finally {
      check.close();
    }
    const target = join(dataPath, DATABASE_FILE);
    if (await Deno.stat(target).then(() => true, () => false)) {
      if (!opts.force) {
        throw new BackupError(`${target} exists; stop the control plane and add --force to replace it (it is kept).`);
      }
      await Deno.rename(target, `${target}.replaced-${fileStamp()}.bak`);
      for (const side of ["-wal", "-shm"]) await Deno.remove(target + side).catch(() => {});
    }
    await Deno.rename(staged, target);
    // A previous pair left from another installation would be offered to instances that never had it.
    for (const name of [PREVIOUS_PRIVATE_KEY_FILE, PREVIOUS_PUBLIC_KEY_FILE]) {
      if (!files.has(name)) await Deno.remove(join(dataPath, name)).catch(() => {});
    }
    for (const [name, data] of files) {
      if (name === "manifest.json" || name === DATABASE_FILE) continue;
      await Deno.writeFile(join(dataPath, name), data, { mode: FILES[name] });
      await Deno.chmod(join(dataPath, name), FILES[name]);
    }
    return manifest;
  } finally {
    await Deno.remove(staged).catch(() => {});
  }
}
