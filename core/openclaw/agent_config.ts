import { createHash } from "node:crypto";
import { AppError } from "../errors.ts";
import type { SshPool } from "../ssh/pool.ts";
import { KeyedLock } from "./keyed_lock.ts";
import { type ConfigCheck, parseValidatorOutput } from "./validator_output.ts";

/** The largest openclaw.json Claworc reads or writes (OpenClaw's own files are far smaller). */
export const MAX_CONFIG_BYTES = 256 * 1024;

/** The file SecretRefs point at: provider keys as one JSON object, readable by the agent's user only. */
export const KEYS_FILE = "~/.openclaw/claworc-keys.json";

export interface AgentConfigOptions {
  /** How long OpenClaw's validator may take (it starts a Node CLI: about 3 s here). */
  validateTimeoutMs: number;
  /** How long a restarted gateway may take to listen again before the change is rolled back. */
  gatewayTimeoutMs: number;
  /**
   * How long the old gateway may take to stop after SIGTERM before it is killed (OpenClaw drains
   * running work first, for minutes if it must).
   */
  gatewayStopMs: number;
}

export const agentConfigDefaults: AgentConfigOptions = {
  validateTimeoutMs: 60_000,
  gatewayTimeoutMs: 120_000,
  gatewayStopMs: 20_000,
};

/** What is written: the whole openclaw.json and, when given, the keys file its SecretRefs read. */
export interface ConfigChange {
  config: string;
  keys?: Record<string, string>;
  /** The hash of openclaw.json the change was made from; a different file on the instance refuses it (409). */
  baseHash?: string;
}

export interface Applied {
  hash: string;
  warnings: ConfigCheck["warnings"];
  duration_ms: number;
}

const DIR = '"$HOME/.openclaw"';

/**
 * The gateway's processes as a pgrep/pkill pattern. OpenClaw renames its gateway process to
 * `openclaw-gateway` once it runs (so "gateway run" matches it only early in its start), and before it
 * execs OpenClaw, supervisord's program is the `claworc-gateway` script. The anchor and the brackets
 * keep the pattern from matching the shell that runs pgrep itself (its command line holds the
 * pattern's text, which matches none of the alternatives).
 */
/**
 * Whether a gateway start failed because OpenClaw wants its state repaired first (its log then names
 * `gateway.maintenance_required` and asks for `openclaw doctor --fix`), rather than because of the
 * configuration.
 */
export function needsStateRepair(failure: string): boolean {
  return /gateway\.maintenance_required|openclaw doctor --fix/.test(failure);
}

export const GATEWAY_PROCESS = "'^openclaw-gateway|[g]ateway run|[c]laworc-gateway'";

/** The gateway's log (supervisord's capture of its output). */
const GATEWAY_LOG = "/var/log/claworc/openclaw.log";

/**
 * OpenClaw's configuration inside an instance, over its SSH connection: read it, check a candidate
 * with OpenClaw's own validator (`openclaw config validate` on a private temp file), and apply a
 * change: the previous files are kept, the new ones renamed into place, the gateway restarted and
 * awaited; a gateway that does not come back gets the previous files again. One change at a time
 * per instance. Secrets travel on the command's standard input, never in a command line.
 */
export class AgentConfig {
  #lock = new KeyedLock<number>();

  constructor(private readonly ssh: SshPool, private readonly opts: AgentConfigOptions = agentConfigDefaults) {}

  /** The instance's openclaw.json ("" when it has none) and its hash. */
  async read(id: number): Promise<{ content: string; hash: string }> {
    const { content, hash } = await this.#readLive(id);
    return { content, hash };
  }

  /**
   * The live file read once (through a private copy, so its size, the hash of its exact bytes and its
   * text all describe the same version), refused when larger than Claworc handles.
   */
  async #readLive(id: number): Promise<{ content: string; hash: string; rawHash: string }> {
    const out = await this.ssh.exec(id, READ, { maxOutput: MAX_CONFIG_BYTES + 1024 });
    if (out.code === 4) {
      throw new AppError("AGENT_ERROR", "The instance's openclaw.json exists but the agent's user cannot read it.");
    }
    const header = /^(\d+) ([0-9a-f]{64})\n/.exec(out.stdout);
    if (out.code !== 0 || !header) {
      const why = (out.stderr || out.stdout).trim().slice(-300) || `exit code ${out.code}`;
      throw new AppError("AGENT_ERROR", `Reading openclaw.json on the instance failed: ${why}`);
    }
    const size = Number(header[1]);
    if (size > MAX_CONFIG_BYTES) {
      throw new AppError(
        "AGENT_ERROR",
        `The instance's openclaw.json is ${Math.ceil(size / 1024)} KiB; Claworc reads and writes at most ${
          MAX_CONFIG_BYTES / 1024
        } KiB.`,
      );
    }
    const content = out.stdout.slice(header[0].length);
    return { content, hash: configHash(content), rawHash: header[2] };
  }

  /** OpenClaw's verdict on `config` (syntax, schema, SecretRef shapes), without touching the live file. */
  async validate(id: number, config: string): Promise<ConfigCheck> {
    checkSize(config);
    const out = await this.ssh.exec(
      id,
      'f="$(mktemp /tmp/claworc-config.XXXXXX)" && cat > "$f" && OPENCLAW_CONFIG_PATH="$f" openclaw config validate --json; rc=$?; rm -f "$f"; exit $rc',
      { input: config, timeoutMs: this.opts.validateTimeoutMs, maxOutput: 1 << 20 },
    );
    return parseValidatorOutput(out);
  }

  /** Validates, writes, restarts the gateway and waits for it; rolls back (422) when it does not come back. */
  apply(id: number, change: ConfigChange): Promise<Applied> {
    return this.#lock.run(id, async () => {
      const started = performance.now();
      checkSize(change.config);
      // The exact bytes the change was made from; the commit step compares them again right before
      // it renames, so a change made on the instance while OpenClaw validates is not overwritten.
      let expected = "";
      if (change.baseHash !== undefined) {
        const live = await this.#readLive(id);
        if (live.hash !== change.baseHash) throw configChanged();
        expected = live.rawHash;
      }
      const check = await this.validate(id, change.config);
      if (!check.valid) {
        throw new AppError("CONFIG_INVALID", "OpenClaw refuses this configuration.", {}, { issues: check.issues });
      }
      if (change.keys) {
        await this.#run(
          id,
          `umask 077; mkdir -p ${DIR}; cat > ${DIR}/.claworc-keys.staged`,
          JSON.stringify(change.keys),
        );
      }
      const commit = await this.ssh.exec(id, commitScript(expected), { input: change.config });
      if (commit.code === 3) throw configChanged();
      if (commit.code !== 0) {
        throw new AppError("AGENT_ERROR", `Writing OpenClaw's files failed: ${commit.stderr.trim().slice(-500)}`);
      }
      try {
        await this.#restartRepairing(id);
      } catch (e) {
        const log = await this.#gatewayLogTail(id);
        const restoreError = await this.#run(id, ROLLBACK).then(() => "", (err: Error) => err.message);
        let outcome = `putting the previous configuration back failed too (${restoreError})`;
        if (!restoreError) {
          const backError = await this.#restartRepairing(id).then(() => "", (err: Error) => err.message);
          outcome = backError
            ? `the previous configuration was restored, but the gateway has not come back with it yet (${backError})`
            : "the previous configuration was restored and the gateway runs with it again";
        }
        throw new AppError(
          "CONFIG_REFUSED",
          `The agent's gateway did not come back with this configuration (${(e as Error).message}); ${outcome}.`,
          {},
          { gateway_log: log, restored: !restoreError },
        );
      }
      return {
        hash: configHash(change.config),
        warnings: check.warnings,
        duration_ms: Math.round(performance.now() - started),
      };
    });
  }

  /**
   * Restarts the gateway; when OpenClaw refuses to start until its state is repaired (a state
   * migration raced with a configuration written while a gateway was starting), runs the repair it
   * asks for (`openclaw doctor --fix --non-interactive`, safe migrations only) and restarts once more.
   */
  async #restartRepairing(id: number): Promise<void> {
    try {
      await this.restartGateway(id);
    } catch (e) {
      if (!needsStateRepair((e as Error).message)) throw e;
      const repair = await this.ssh.exec(id, "openclaw doctor --fix --non-interactive", {
        timeoutMs: this.opts.gatewayTimeoutMs,
        maxOutput: 64 * 1024,
      });
      if (repair.code !== 0) {
        const why = (repair.stderr || repair.stdout).trim().slice(-300);
        throw new Error(`${(e as Error).message}; \`openclaw doctor --fix\` failed too (${why})`);
      }
      await this.restartGateway(id);
    }
  }

  /**
   * Restarts OpenClaw's gateway (supervisord brings it back) and waits until a new process answers on
   * the gateway's port. The old process gets SIGTERM, then SIGKILL after `gatewayStopMs`. Fails early
   * when OpenClaw says in its log that the gateway failed to start (it then spends a minute on its own
   * diagnostics before exiting), or when the new process exits before it answers.
   */
  async restartGateway(id: number): Promise<void> {
    const deadline = performance.now() + this.opts.gatewayTimeoutMs;
    const start = await this.#look(id, [], null);
    const before = start.matching;
    await this.ssh.exec(id, `pkill -TERM -u "$(id -u)" -f ${GATEWAY_PROCESS} || true`);
    const killAt = performance.now() + this.opts.gatewayStopMs;
    let fresh = "";
    for (;;) {
      const { matching, alive: old } = await this.#look(id, before, null);
      fresh = matching.find((p) => !before.includes(p)) ?? "";
      if (!old.length && fresh) break;
      if (performance.now() > deadline) {
        throw new Error(old.length ? "the previous gateway process did not stop" : "no new gateway process started");
      }
      if (old.length && performance.now() > killAt) {
        await this.ssh.exec(id, `kill -KILL ${old.join(" ")} 2>/dev/null || true`);
      }
      await sleep(500);
    }
    // supervisord's program keeps its process id from the start script to OpenClaw (exec), while its
    // title changes on the way; that process ending before the port answers is a failed start.
    for (;;) {
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`the gateway did not answer within ${this.opts.gatewayTimeoutMs / 1000} s`);
      try {
        await this.ssh.waitForTunnel(id, "gateway", Math.min(left, 3_000));
        return;
      } catch (e) {
        if (!(e instanceof AppError && e.code === "SSH_TIMEOUT")) throw e;
      }
      const now = await this.#look(id, [fresh], start.logSize);
      if (now.failure) throw new Error(now.failure);
      if (!now.alive.length) throw new Error("the gateway exited while starting");
    }
  }

  /**
   * One look at the instance: the gateway's process ids (`matching`), which of `watch` still exist
   * (`alive`), the log's size, and OpenClaw's start-up failure line written after `logFrom` bytes.
   */
  async #look(
    id: number,
    watch: string[],
    logFrom: number | null,
  ): Promise<{ matching: string[]; alive: string[]; logSize: number; failure: string }> {
    const failed = logFrom === null ? "" : `tail -c +${logFrom + 1} ${GATEWAY_LOG} 2>/dev/null | ` +
      `sed 's/\\x1b\\[[0-9;?]*[A-Za-z]//g' | grep -a -m 1 -o 'Gateway failed to start.*' | cut -c1-400`;
    const out = await this.ssh.exec(
      id,
      `pgrep -u "$(id -u)" -f ${GATEWAY_PROCESS}; echo --; for p in ${watch.join(" ")}; do ` +
        `[ -d "/proc/$p" ] && echo "$p"; done; echo --; wc -c < ${GATEWAY_LOG} 2>/dev/null; echo --; ${
          failed || "true"
        }; true`,
    );
    const [matching = "", alive = "", size = "", failure = ""] = out.stdout.split("--\n");
    const pids = (part: string) => part.split(/\s+/).filter((p) => /^\d+$/.test(p));
    return {
      matching: pids(matching),
      alive: pids(alive),
      logSize: Number(size.trim()) || 0,
      failure: failure.trim(),
    };
  }

  /** The end of the gateway's log, without colour codes (it is shown to people). */
  async #gatewayLogTail(id: number): Promise<string> {
    const out = await this.ssh.exec(
      id,
      `tail -n 40 ${GATEWAY_LOG} 2>/dev/null | sed 's/\\x1b\\[[0-9;?]*[A-Za-z]//g' || true`,
      { maxOutput: 256 * 1024 },
    ).catch(() => null);
    return (out?.stdout ?? "").slice(-16_000);
  }

  async #run(id: number, command: string, input?: string): Promise<void> {
    const out = await this.ssh.exec(id, command, { input });
    if (out.code !== 0) {
      throw new AppError("AGENT_ERROR", `Writing OpenClaw's files failed: ${out.stderr.trim().slice(-500)}`);
    }
  }
}

/** SHA-256 (hex) of a configuration text. */
export function configHash(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function checkSize(config: string): void {
  if (new TextEncoder().encode(config).length > MAX_CONFIG_BYTES) {
    throw new AppError("PAYLOAD_TOO_LARGE", `openclaw.json may be at most ${MAX_CONFIG_BYTES / 1024} KiB.`);
  }
}

function configChanged(): AppError {
  return new AppError(
    "CONFIG_CHANGED",
    "openclaw.json changed on the instance since you loaded it; reload it and make your change again.",
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Prints "<size> <sha256>" of openclaw.json (0 and the empty hash when there is none), then its
 * content unless it is too large; exit 4 when it exists but cannot be read.
 */
const READ = `f=${DIR}/openclaw.json
if [ -e "$f" ] && [ ! -r "$f" ]; then exit 4; fi
t="$(mktemp /tmp/claworc-read.XXXXXX)" || exit 5
cat "$f" > "$t" 2>/dev/null
size="$(wc -c < "$t")"
echo "$size $(sha256sum < "$t" | cut -c1-64)"
if [ "$size" -le ${MAX_CONFIG_BYTES} ]; then cat "$t"; fi
rm -f "$t"`;

/**
 * Writes the staged files into place (same folder, atomic renames), keeping the live ones as
 * `*.claworc-prev`, or a `.<name>.claworc-none` marker when there was none (so a rollback removes the
 * new file). With `expected` (a SHA-256 of the live file's bytes), exits 3 without touching anything
 * when openclaw.json is no longer that file.
 */
function commitScript(expected: string): string {
  if (expected && !/^[0-9a-f]{64}$/.test(expected)) throw new Error("invalid expected hash");
  return `set -e; umask 077; d=${DIR}; expected="${expected}"; mkdir -p "$d"; cat > "$d/.openclaw.json.staged"
if [ -n "$expected" ] && [ "$(cat "$d/openclaw.json" 2>/dev/null | sha256sum | cut -c1-64)" != "$expected" ]; then
  rm -f "$d/.openclaw.json.staged" "$d/.claworc-keys.staged"; exit 3
fi
rm -f "$d/openclaw.json.claworc-prev" "$d/claworc-keys.json.claworc-prev" "$d/.openclaw.json.claworc-none" "$d/.claworc-keys.json.claworc-none"
if [ -f "$d/openclaw.json" ]; then cp -p "$d/openclaw.json" "$d/openclaw.json.claworc-prev"; else : > "$d/.openclaw.json.claworc-none"; fi
if [ -f "$d/.claworc-keys.staged" ]; then
  if [ -f "$d/claworc-keys.json" ]; then cp -p "$d/claworc-keys.json" "$d/claworc-keys.json.claworc-prev"; else : > "$d/.claworc-keys.json.claworc-none"; fi
  mv -f "$d/.claworc-keys.staged" "$d/claworc-keys.json"
fi
mv -f "$d/.openclaw.json.staged" "$d/openclaw.json"`;
}

/** Puts the kept files back (and removes files that did not exist before the change). */
const ROLLBACK = `set -e; d=${DIR}
if [ -f "$d/openclaw.json.claworc-prev" ]; then mv -f "$d/openclaw.json.claworc-prev" "$d/openclaw.json"
elif [ -f "$d/.openclaw.json.claworc-none" ]; then rm -f "$d/openclaw.json"; fi
if [ -f "$d/claworc-keys.json.claworc-prev" ]; then mv -f "$d/claworc-keys.json.claworc-prev" "$d/claworc-keys.json"
elif [ -f "$d/.claworc-keys.json.claworc-none" ]; then rm -f "$d/claworc-keys.json"; fi
rm -f "$d/.openclaw.json.claworc-none" "$d/.claworc-keys.json.claworc-none"`;
