import { join } from "node:path";
import type { Config } from "../config.ts";
import { Database } from "../db/database.ts";
import { MIGRATIONS } from "../db/migrations.ts";
import { DATABASE_FILE } from "../boot.ts";
import { hasKeyCheck, verifyMasterKey } from "../secrets/key_check.ts";
import { loadMasterKey } from "../secrets/master_key.ts";
import { PRIVATE_KEY_FILE, PUBLIC_KEY_FILE } from "../ssh/key_store.ts";
import { fingerprint } from "../ssh/public_key.ts";
import { loadSsh2 } from "../ssh/ssh2.ts";
import type { RuntimeBackend } from "../plugins/runtime_backend.ts";

/** One finding: `ok`, `warn` (works, but should be fixed) or `fail` (will not work), and what to do. */
export interface Check {
  name: string;
  status: "ok" | "warn" | "fail";
  detail: string;
  fix?: string;
}

const ok = (name: string, detail: string): Check => ({ name, status: "ok", detail });
const warn = (name: string, detail: string, fix: string): Check => ({ name, status: "warn", detail, fix });
const fail = (name: string, detail: string, fix: string): Check => ({ name, status: "fail", detail, fix });

/**
 * `claworc doctor`: checks what start-up and instances depend on, without changing anything (no
 * folder, key or migration is created). `backend` is the runtime backend the plugins registered, if
 * the data folder was ready enough to set them up.
 */
export async function diagnose(
  config: Config,
  backend: RuntimeBackend | null | undefined,
  now = Date.now(),
): Promise<Check[]> {
  const checks: Check[] = [];
  const data = config.dataPath;
  const info = await Deno.stat(data).catch(() => null);
  if (!info) {
    checks.push(warn("data folder", `${data} does not exist yet`, "Start Claworc once; it creates the folder (0700)."));
  } else if (!info.isDirectory) {
    checks.push(fail("data folder", `${data} is not a folder`, "Point CLAWORC_DATA_PATH at a folder."));
  } else {
    const probe = join(data, `.doctor-${crypto.randomUUID()}`);
    const writable = await Deno.writeTextFile(probe, "").then(() => Deno.remove(probe)).then(() => true, () => false);
    if (!writable) {
      checks.push(fail("data folder", `${data} is not writable`, `Give this user write access to ${data}.`));
    } else if (info.mode !== null && (info.mode & 0o077) !== 0) {
      checks.push(warn("data folder", `${data} is readable by other users`, `chmod 700 ${data}`));
    } else checks.push(ok("data folder", `${data} (0700, writable)`));
  }

  const dbPath = join(data, DATABASE_FILE);
  const hasDb = await Deno.stat(dbPath).then(() => true, () => false);
  if (!hasDb) {
    checks.push(warn("database", `no database at ${dbPath} yet`, "Start Claworc once to create it."));
  } else {
    let db: Database;
    try {
      db = new Database(dbPath);
    } catch (e) {
      checks.push(fail("database", `cannot open ${dbPath}: ${(e as Error).message}`, "Restore the latest backup."));
      return [...checks, await sshKeyCheck(data), ...await backendChecks(config, backend), publicUrlCheck(config)];
    }
    try {
      const integrity = db.get<{ integrity_check: string }>("PRAGMA integrity_check")?.integrity_check;
      const version = db.schemaVersion();
      const latest = MIGRATIONS.at(-1)!.version;
      if (integrity !== "ok") {
        checks.push(fail("database", `integrity check: ${integrity}`, "Restore the latest backup (claworc restore)."));
      } else if (version > latest) {
        checks.push(fail("database", `schema ${version} is newer than this release (${latest})`, "Upgrade Claworc."));
      } else if (version < latest) {
        checks.push(ok("database", `intact; schema ${version}, upgraded to ${latest} at next start (a copy is kept)`));
      } else checks.push(ok("database", `intact; schema ${version}`));
      checks.push(await masterKeyCheck(config, db));
      checks.push(clockCheck(db, now));
    } finally {
      db.close();
    }
  }

  checks.push(await sshKeyCheck(data));
  checks.push(...await backendChecks(config, backend));
  checks.push(publicUrlCheck(config));
  return checks;
}

async function masterKeyCheck(config: Config, db: Database): Promise<Check> {
  const name = "master key";
  try {
    const { fernet, source } = await loadMasterKey(config.dataPath, config.secretKey, false);
    if (!hasKeyCheck(db)) return ok(name, `from ${source} (no secret stored yet)`);
    await verifyMasterKey(db, fernet);
    const where = source === "environment" ? "CLAWORC_SECRET_KEY" : "master.key";
    const apart = source === "environment" ? "" : " (keep a copy outside the data folder)";
    return ok(name, `${where} opens the stored secrets${apart}`);
  } catch (e) {
    return fail(name, (e as Error).message, "Restore master.key or CLAWORC_SECRET_KEY from where you backed it up.");
  }
}

/** The clock must not be behind what the database already recorded (sessions and audit use it). */
function clockCheck(db: Database, now: number): Check {
  const last = db.get<{ at: string | null }>("SELECT MAX(at) AS at FROM audit_logs")?.at;
  const lastMs = last ? Date.parse(last) : NaN;
  if (Number.isFinite(lastMs) && lastMs - now > 5 * 60_000) {
    return fail(
      "clock",
      `the system clock (${new Date(now).toISOString()}) is behind the last audit entry (${last})`,
      "Set the clock right (e.g. enable NTP): expiry of sessions and challenges depends on it.",
    );
  }
  return ok("clock", new Date(now).toISOString());
}

async function sshKeyCheck(data: string): Promise<Check> {
  const name = "SSH key";
  const priv = join(data, PRIVATE_KEY_FILE);
  const stat = await Deno.stat(priv).catch(() => null);
  if (!stat) return warn(name, "no key pair yet", "Start Claworc once; it generates one.");
  if (stat.mode !== null && (stat.mode & 0o077) !== 0) {
    return fail(name, `${priv} is readable by others`, `chmod 600 ${priv}`);
  }
  try {
    const { utils } = await loadSsh2();
    const parsed = utils.parseKey(await Deno.readTextFile(priv));
    if (parsed instanceof Error) throw parsed;
    const pub = (await Deno.readTextFile(join(data, PUBLIC_KEY_FILE))).trim();
    return ok(name, `ED25519 ${fingerprint(pub)}`);
  } catch (e) {
    return fail(name, `cannot read the key pair: ${(e as Error).message}`, "Restore ssh_key from a backup.");
  }
}

async function backendChecks(config: Config, backend: RuntimeBackend | null | undefined): Promise<Check[]> {
  if (backend === undefined) return [];
  if (!backend) {
    const fix = config.runtime === "kubernetes"
      ? "Check CLAWORC_KUBECONFIG / the service account and CLAWORC_KUBE_NAMESPACE."
      : "Start Docker, or Podman's service (podman system service --time=0 unix:///run/podman/podman.sock), " +
        "or set CLAWORC_DOCKER_SOCKET.";
    return [fail("runtime backend", `no ${config.runtime} engine found`, fix)];
  }
  const where = backend.location ? ` at ${backend.location}` : "";
  if (!await backend.available()) {
    return [fail("runtime backend", `${backend.name}${where} does not answer`, "Start the engine or fix its address.")];
  }
  const checks = [ok("runtime backend", `${backend.name}${where} answers`)];
  if (backend.hasImage) {
    const present = await backend.hasImage(config.agentImage).catch(() => false);
    checks.push(
      present ? ok("agent image", config.agentImage) : fail(
        "agent image",
        `${config.agentImage} is not in the engine`,
        "Build it (deno task build:agent) or set CLAWORC_AGENT_IMAGE to an image the engine has.",
      ),
    );
  }
  return checks;
}

function publicUrlCheck(config: Config): Check {
  const name = "public URL and passkeys";
  const url = config.publicUrl;
  if (!url) {
    return warn(
      name,
      "CLAWORC_PUBLIC_URL is not set: same-origin requests only; passkeys use the request's host",
      "Set CLAWORC_PUBLIC_URL to the address people use (https in production).",
    );
  }
  const local = ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
  if (url.protocol !== "https:" && !local) {
    return warn(
      name,
      `${url.origin} is plain HTTP: browsers refuse passkeys there and cookies are not Secure`,
      "Serve Claworc behind TLS and use an https public URL.",
    );
  }
  const rp = config.webauthn.rpId ?? "(the request's host)";
  return ok(name, `${url.origin}; passkeys bound to ${rp}`);
}
