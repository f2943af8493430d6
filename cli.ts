import { parseArgs } from "node:util";
import { type Config, CONFIG_VARIABLES, ConfigError, loadConfig } from "./core/config.ts";
import { DATABASE_FILE, openServices } from "./core/boot.ts";
import { startServer } from "./core/server.ts";
import { AppError } from "./core/errors.ts";
import { createLogger } from "./core/log.ts";
import { VERSION } from "./core/version.ts";
import { newPassword, role as roleSchema, username as usernameSchema } from "./routes/api/schemas.ts";
import { coreRoutes, errorPage } from "./routes/mod.ts";
import { builtinPlugins } from "./plugins/mod.ts";
import { BackupError, createBackup, restoreBackup } from "./core/ops/backup.ts";
import { type Check, diagnose } from "./core/ops/doctor.ts";
import { createApp } from "./core/app.ts";
import { Database } from "./core/db/database.ts";
import { MIGRATIONS } from "./core/db/migrations.ts";

const HELP = `Claworc ${VERSION}: a control plane for OpenClaw agent instances.

Usage: claworc [command]

  serve                                   Start the control plane (default).
  admin create --username U [--password P] [--role admin|user]
                                          Create a user (an admin unless --role user).
  admin reset-password --username U [--password P]
                                          Set a user's password and end their sessions.
  admin recover --username U [--password P]
                                          For someone who lost their passkeys: delete them all,
                                          set the password, end their sessions and allow one
                                          password sign-in within an hour whatever the policy.
  admin list                              List users.
  keys show                               Print the SSH public key and its fingerprint.
  keys rotate                             Rotate the SSH key on every running instance (with Claworc
                                          stopped; while it runs use Settings -> SSH key instead).
  doctor                                  Check the data folder, database, master key, SSH key, clock,
                                          container engine, agent image and public URL; print fixes.
  backup --output FILE                    Write the database (an online, consistent copy) and the SSH
                                          keys to FILE. The master key is NOT included: keep it apart.
  restore --input FILE [--force]          Check a backup (integrity, schema, master key) and restore it
                                          into the data folder; stop the control plane first.
  kubernetes manifests [--namespace N] [--image IMG] [--public-url URL] [--ingress-host HOST] ...
                                          Print the manifests that deploy Claworc into a Kubernetes
                                          namespace (claworc kubernetes --help lists every option).
  version                                 Print the version.

Without --password the password is read from standard input (one line), so it stays out of
your shell history and the process list.

Configuration (environment variables):
${
  Object.entries(CONFIG_VARIABLES).map(([k, v]) => `  ${k.padEnd(30)} ${v.help} Default: ${v.default || "(none)"}`)
    .join("\n")
}
`;

/** Reads one line from standard input (for passwords). */
async function readLine(): Promise<string> {
  const buf = new Uint8Array(4096);
  const n = await Deno.stdin.read(buf);
  return new TextDecoder().decode(buf.subarray(0, n ?? 0)).split(/\r?\n/)[0];
}

function check<T>(
  schema: {
    safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { message: string }[] } };
  },
  value: unknown,
  what: string,
): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new CliError(`Invalid ${what}: ${r.error.issues[0].message}.`);
  return r.data;
}

class CliError extends Error {}

/** Runs the command line; returns the exit code. */
export async function runCli(args: string[]): Promise<number> {
  // Its own options and no configuration: the manifests depend only on the command line.
  // Loaded only for this command: the manifest schemas are large and `serve` never needs them.
  if (args[0] === "kubernetes") {
    return (await import("./core/kube_manifests/command.ts")).kubernetesCommand(args.slice(1));
  }
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      username: { type: "string" },
      password: { type: "string" },
      role: { type: "string" },
      output: { type: "string" },
      input: { type: "string" },
      force: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [command = "serve", sub] = positionals;
  if (values.help || command === "help") {
    console.log(HELP);
    return 0;
  }
  if (command === "version") {
    console.log(VERSION);
    return 0;
  }
  try {
    const config = loadConfig((name) => Deno.env.get(name));
    if (command === "serve") {
      const server = await startServer(config, { routes: coreRoutes, plugins: builtinPlugins(), errorPage });
      const stop = async () => {
        await server.close();
        Deno.exit(0);
      };
      Deno.addSignalListener("SIGINT", stop);
      Deno.addSignalListener("SIGTERM", stop);
      return await new Promise<number>(() => {});
    }
    if (command === "doctor") return await doctor(config);
    if (command === "keys" && (sub === "show" || sub === "rotate")) return await keys(config, sub);
    if (command === "backup") {
      if (!values.output) throw new CliError("backup needs --output FILE.");
      const m = await createBackup(config.dataPath, values.output);
      console.log(
        `Backed up ${m.files.join(", ")} (schema ${m.schema_version}) to ${values.output}.\n` +
          "The master key is not in it: keep master.key (or CLAWORC_SECRET_KEY) safe separately; " +
          "without it the stored secrets cannot be read.",
      );
      return 0;
    }
    if (command === "restore") {
      if (!values.input) throw new CliError("restore needs --input FILE.");
      const m = await restoreBackup(config.dataPath, values.input, {
        force: values.force,
        secretKey: config.secretKey,
      });
      console.log(`Restored ${m.files.join(", ")} from ${m.created_at} (Claworc ${m.claworc_version}).`);
      return 0;
    }
    if (command !== "admin" || !["create", "reset-password", "recover", "list"].includes(sub ?? "")) {
      console.error(`Unknown command "${positionals.join(" ")}".\n\n${HELP}`);
      return 2;
    }
    const s = await openServices(config, { log: createLogger("warn") });
    try {
      const actor = { id: null, name: "cli" };
      if (sub === "list") {
        for (const u of s.users.list()) {
          console.log(`${String(u.id).padStart(4)}  ${u.username.padEnd(24)} ${u.role.padEnd(6)} ${u.created_at}`);
        }
        return 0;
      }
      const username = check(usernameSchema, values.username, "--username");
      const password = check(newPassword, values.password ?? await readLine(), "password");
      if (sub === "create") {
        const role = check(roleSchema, values.role ?? "admin", "--role");
        const user = await s.users.create(username, password, role);
        s.audit.record({
          actor,
          action: "user.create",
          target: user.username,
          details: { user_id: user.id, role, via: "cli" },
        });
        console.log(`Created ${role} "${user.username}" (id ${user.id}).`);
      } else if (sub === "recover") {
        const found = s.users.credentials(username);
        if (!found) throw new CliError(`No user named "${username}".`);
        await s.users.setPassword(found.id, password);
        const passkeys = s.passkeys.store.deleteAll(found.id);
        const ended = s.sessions.destroyForUser(found.id);
        const until = s.recovery.grant(found.id);
        s.audit.record({
          actor,
          action: "auth.recovery",
          target: found.username,
          details: {
            user_id: found.id,
            credentials_deleted: passkeys,
            sessions_ended: ended,
            until: until.toISOString(),
          },
        });
        console.log(
          `Recovery for "${found.username}": ${passkeys} passkey(s) deleted, ${ended} session(s) ended, password set.\n` +
            `They may sign in once with that password until ${until.toISOString()}, then add a new passkey.`,
        );
      } else {
        const found = s.users.credentials(username);
        if (!found) throw new CliError(`No user named "${username}".`);
        await s.users.setPassword(found.id, password);
        const ended = s.sessions.destroyForUser(found.id);
        s.audit.record({
          actor,
          action: "user.password_reset",
          target: found.username,
          details: { user_id: found.id, sessions_ended: ended, via: "cli" },
        });
        console.log(`Password of "${found.username}" reset; ${ended} session(s) ended.`);
      }
      return 0;
    } finally {
      s.db.close();
    }
  } catch (e) {
    if (e instanceof ConfigError || e instanceof CliError || e instanceof AppError || e instanceof BackupError) {
      console.error(`claworc: ${e.message}`);
      return 2;
    }
    if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
      console.error(
        `claworc: ${
          (e as Error).message
        }\nThe data folder must be readable and writable by this program (CLAWORC_DATA_PATH).`,
      );
      return 2;
    }
    console.error(`claworc: ${(e as Error).message}`);
    return 1;
  }
}

/**
 * `claworc doctor`: prints every check with what to fix; exit code 1 when something will not work.
 * The plugins are set up (to find the engine) only over a database that is already current, so the
 * doctor never creates or migrates anything.
 */
async function doctor(config: Config): Promise<number> {
  let backend;
  const dbPath = `${config.dataPath}/${DATABASE_FILE}`;
  if (await Deno.stat(dbPath).then(() => true, () => false)) {
    const db = new Database(dbPath);
    const current = db.schemaVersion() === MIGRATIONS.at(-1)!.version;
    db.close();
    if (current) {
      try {
        const s = await openServices(config, { log: createLogger("error") });
        const built = await createApp(s, { routes: coreRoutes, plugins: builtinPlugins(), errorPage });
        backend = s.runtime.backend ?? null;
        await built.host.close();
        s.db.close();
      } catch {
        backend = undefined; // the database or master key checks below say why
      }
    }
  }
  const checks = await diagnose(config, backend);
  const mark: Record<Check["status"], string> = { ok: "ok  ", warn: "WARN", fail: "FAIL" };
  for (const c of checks) {
    console.log(`${mark[c.status]} ${c.name}: ${c.detail}${c.fix ? `\n       fix: ${c.fix}` : ""}`);
  }
  const failed = checks.filter((c) => c.status === "fail").length;
  console.log(failed ? `${failed} problem(s) to fix.` : "Nothing blocks Claworc from running.");
  return failed ? 1 : 0;
}

/** `claworc keys show|rotate`. Rotation connects to every running instance first and refuses if one is unreachable. */
async function keys(config: Config, sub: "show" | "rotate"): Promise<number> {
  if (sub === "rotate") {
    const running = await fetch(`http://${config.host}:${config.port}/health`).then((r) => (r.body?.cancel(), true))
      .catch(() => false);
    if (running) {
      throw new CliError(
        `Claworc is running at ${config.host}:${config.port}: rotate from Settings -> SSH key ` +
          "(POST /api/v1/settings/rotate-ssh-key) so its connections switch keys too.",
      );
    }
  }
  const s = await openServices(config, { log: createLogger("error") });
  const built = await createApp(s, { routes: coreRoutes, plugins: builtinPlugins(), errorPage });
  try {
    if (sub === "show") {
      console.log(`${s.sshKeys.fingerprint()}\n${s.sshKeys.publicKey}`);
      return 0;
    }
    const ids = s.instances.idsWithStatus("running");
    const unreachable: string[] = [];
    for (const id of ids) {
      await s.ssh.connect(id).catch((e) => unreachable.push(`${s.instances.get(id).name} (${(e as Error).message})`));
    }
    if (unreachable.length) {
      throw new CliError(
        `Cannot reach ${unreachable.join(", ")}; rotating now would lock them out. Start them (or the engine) first.`,
      );
    }
    const report = await s.keyRotation.rotate({ id: null, name: "cli" });
    for (const i of report.instance_statuses) {
      console.log(`${i.success ? "ok  " : "FAIL"} ${i.name}${i.error ? `: ${i.error}` : ""}`);
    }
    console.log(`${report.old_fingerprint} -> ${report.new_fingerprint} on ${ids.length} running instance(s).`);
    if (!report.full_success) {
      console.log("Not every instance took the new key; the old key stays valid until they do. Run again.");
    }
    return report.full_success ? 0 : 1;
  } finally {
    s.ssh.close();
    await built.host.close();
    s.db.close();
  }
}
