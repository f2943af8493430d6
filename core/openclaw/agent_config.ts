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
}

export const agentConfigDefaults: AgentConfigOptions = { validateTimeoutMs: 60_000, gatewayTimeoutMs: 120_000 };

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
    const out = await this.ssh.exec(id, `cat ${DIR}/openclaw.json 2>/dev/null || true`, {
      maxOutput: MAX_CONFIG_BYTES,
    });
    return { content: out.stdout, hash: await configHash(out.stdout) };
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
      if (change.baseHash !== undefined && (await this.read(id)).hash !== change.baseHash) {
        throw new AppError(
          "CONFIG_CHANGED",
          "openclaw.json changed on the instance since you loaded it; reload it and make your change again.",
        );
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
      await this.#run(id, COMMIT, change.config);
      try {
        await this.restartGateway(id);
      } catch (e) {
        const log = await this.#gatewayLogTail(id);
        await this.#run(id, ROLLBACK).catch(() => {});
        await this.restartGateway(id).catch(() => {});
        throw new AppError(
          "CONFIG_REFUSED",
          `The agent's gateway did not come back with this configuration (${
            (e as Error).message
          }); the previous configuration was restored.`,
          {},
          { gateway_log: log },
        );
      }
      return {
        hash: await configHash(change.config),
        warnings: check.warnings,
        duration_ms: Math.round(performance.now() - started),
      };
    });
  }

  /** Restarts OpenClaw's gateway (supervisord brings it back) and waits until a new process answers. */
  async restartGateway(id: number): Promise<void> {
    const pid = async () => (await this.ssh.exec(id, "pgrep -u \"$(id -u)\" -f 'gateway run' | head -1")).stdout.trim();
    const before = await pid();
    await this.ssh.exec(id, "pkill -u \"$(id -u)\" -f 'gateway run' || true");
    const deadline = performance.now() + this.opts.gatewayTimeoutMs;
    for (;;) {
      const now = await pid();
      if (now !== "" && now !== before) break;
      if (performance.now() > deadline) throw new Error("no new gateway process");
      await new Promise((r) => setTimeout(r, 500));
    }
    await this.ssh.waitForTunnel(id, "gateway", Math.max(1_000, deadline - performance.now()));
  }

  async #gatewayLogTail(id: number): Promise<string> {
    const out = await this.ssh.exec(id, "tail -n 30 /var/log/claworc/openclaw.log 2>/dev/null || true").catch(() =>
      null
    );
    return out?.stdout ?? "";
  }

  async #run(id: number, command: string, input?: string): Promise<void> {
    const out = await this.ssh.exec(id, command, { input });
    if (out.code !== 0) {
      throw new AppError("AGENT_ERROR", `Writing OpenClaw's files failed: ${out.stderr.trim().slice(-500)}`);
    }
  }
}

/** SHA-256 (hex) of a configuration text. */
export async function configHash(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

function checkSize(config: string): void {
  if (new TextEncoder().encode(config).length > MAX_CONFIG_BYTES) {
    throw new AppError("PAYLOAD_TOO_LARGE", `openclaw.json may be at most ${MAX_CONFIG_BYTES / 1024} KiB.`);
  }
}

/** Keeps the live files as `*.claworc-prev`, then renames the staged ones into place (same folder, atomic). */
const COMMIT = `set -e; umask 077; d=${DIR}; mkdir -p "$d"; cat > "$d/.openclaw.json.staged"
rm -f "$d/openclaw.json.claworc-prev" "$d/claworc-keys.json.claworc-prev"
if [ -f "$d/openclaw.json" ]; then cp -p "$d/openclaw.json" "$d/openclaw.json.claworc-prev"; fi
if [ -f "$d/.claworc-keys.staged" ]; then
  if [ -f "$d/claworc-keys.json" ]; then cp -p "$d/claworc-keys.json" "$d/claworc-keys.json.claworc-prev"; fi
  mv -f "$d/.claworc-keys.staged" "$d/claworc-keys.json"
fi
mv -f "$d/.openclaw.json.staged" "$d/openclaw.json"`;

/** Puts the kept files back. */
const ROLLBACK = `set -e; d=${DIR}
if [ -f "$d/openclaw.json.claworc-prev" ]; then mv -f "$d/openclaw.json.claworc-prev" "$d/openclaw.json"; fi
if [ -f "$d/claworc-keys.json.claworc-prev" ]; then mv -f "$d/claworc-keys.json.claworc-prev" "$d/claworc-keys.json"; fi`;
