/**
 * A real OpenSSH sshd for tests: its own config, keys, authorized_keys and log in a private temp
 * folder, run in private mount and PID namespaces so it never touches the machine's /run or login
 * records and every process it starts dies with it.
 */
// @ts-types="npm:@types/ssh2@1.15.6"
import ssh2 from "ssh2";
import type { ConnectConfig } from "ssh2";
import { generateKeyPair } from "../../core/ssh/key_store.ts";

/** A valid pair in the shape ssh2 uses (generateKeyPair screens out ssh2's malformed ones). */
function sshKeyPair(): { private: string; public: string } {
  const k = generateKeyPair("test");
  return { private: k.privateKey, public: k.publicKey };
}

const SSHD = "/usr/sbin/sshd";
const READY_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 2_000;
/** Login records sshd would write; an empty file is bound over each that exists. */
const LOGIN_RECORDS = ["/var/log/wtmp", "/var/log/btmp", "/var/log/lastlog"];

/** How to start a test sshd. */
export interface SshdOptions {
  /** Lines for the login user's authorized_keys (may carry restrictions such as `restrict,permitopen=...`). */
  authorizedKeys?: string[];
  /** Login user, default `claworc-test` (created on first use). */
  user?: string;
  /** OpenSSH-format ed25519 host key; generated when absent. */
  hostKey?: { private: string; public: string };
  /** Default: a free port on 127.0.0.1. */
  port?: number;
  /** Default 127.0.0.1. */
  listenAddress?: string;
  /** Appended to sshd_config. */
  extraConfig?: string;
  /** Run sshd inside this network namespace (made by the test with `ip netns add`). */
  netns?: string;
  /**
   * Host folders bound over existing paths inside sshd's private mount namespace only (e.g. a test folder
   * over /var/log, so sessions see the files an instance would have there without touching the machine's).
   */
  binds?: { source: string; target: string }[];
}

/** A running (or stopped) test sshd. */
export interface Sshd {
  host: string;
  port: number;
  user: string;
  /** "ssh-ed25519 AAAA..." line of the host key. */
  hostPublicKey: string;
  /** Its private temp folder. */
  dir: string;
  /** Rewrites authorized_keys (sshd re-reads it per connection). */
  setAuthorizedKeys(lines: string[]): Promise<void>;
  readAuthorizedKeys(): Promise<string[]>;
  /** Kills sshd and everything it started (SIGTERM then SIGKILL) and waits; keeps the folder. */
  stop(): Promise<void>;
  /** (Re)starts on the same port and host key; resolves once the port answers "SSH-2.0". */
  start(): Promise<void>;
  /** Stops and removes the folder. */
  close(): Promise<void>;
  /** The sshd log (and anything the launcher wrote to stderr), for debugging failed tests. */
  log(): Promise<string>;
}

/** A port that was free on 127.0.0.1 a moment ago. */
export function freePort(hostname = "127.0.0.1"): number {
  const listener = Deno.listen({ hostname, port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** The "type base64" part of a public key line (drops any comment). */
function publicKeyLine(line: string): string {
  const [type, blob] = line.trim().split(/\s+/);
  if (!type || !blob) throw new Error(`not an OpenSSH public key line: ${line}`);
  return `${type} ${blob}`;
}

/** Single-quotes a string for sh. */
function shQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** uid and gid of a local user (via `id`). */
async function userIds(user: string): Promise<{ uid: number; gid: number }> {
  const id = async (flag: string) => {
    const out = await new Deno.Command("id", { args: [flag, user], stdout: "piped", stderr: "piped" }).output();
    if (!out.success) throw new Error(`no local user ${user}: ${new TextDecoder().decode(out.stderr).trim()}`);
    return Number(new TextDecoder().decode(out.stdout).trim());
  };
  return { uid: await id("-u"), gid: await id("-g") };
}

/** The default login user: a dedicated account with a clean home, so no machine-specific shell startup
 * files (root's .bashrc here runs pyenv, whose rehash lock can hang logins) affect the tests. */
export const TEST_USER = "claworc-test";

let testUserReady: Promise<void> | undefined;

/** Creates the test account once per machine (as root; useradd from Debian's passwd package). */
function ensureTestUser(): Promise<void> {
  return testUserReady ??= (async () => {
    const run = async (cmd: string, args: string[]) => {
      const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output();
      if (!out.success) throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr).trim()}`);
    };
    const exists = await new Deno.Command("id", { args: ["-u", TEST_USER], stdout: "null", stderr: "null" }).output();
    if (!exists.success) {
      await run("useradd", [
        "--system",
        "--create-home",
        "--home-dir",
        `/var/lib/${TEST_USER}`,
        "--shell",
        "/bin/bash",
        TEST_USER,
      ]);
    }
    // useradd leaves the password field "!", which sshd (UsePAM no) treats as a locked account; "*" means
    // "no password" without locking key logins.
    await run("usermod", ["-p", "*", TEST_USER]);
  })();
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Connects once and reads until the SSH banner arrives; false on refusal, EOF or a short timeout. */
async function answersSsh(host: string, port: number): Promise<boolean> {
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname: host, port });
  } catch {
    return false;
  }
  const timer = setTimeout(() => conn.close(), 1_000);
  try {
    const buf = new Uint8Array(256);
    let text = "";
    while (text.length < 1024) {
      const n = await conn.read(buf);
      if (n === null) return false;
      text += new TextDecoder().decode(buf.subarray(0, n));
      if (text.includes("SSH-2.0")) return true;
    }
    return false;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // already closed by the timer
    }
  }
}

class TestSshd implements Sshd {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly hostPublicKey: string;
  readonly dir: string;
  #child: Deno.ChildProcess | null = null;
  #status: Promise<Deno.CommandStatus> | null = null;
  #owner: { uid: number; gid: number } | null;

  constructor(
    dir: string,
    host: string,
    port: number,
    user: string,
    hostPublicKey: string,
    owner: { uid: number; gid: number } | null,
    readonly netns: string | null = null,
    readonly binds: { source: string; target: string }[] = [],
  ) {
    this.dir = dir;
    this.#owner = owner;
    this.host = host;
    this.port = port;
    this.user = user;
    this.hostPublicKey = hostPublicKey;
  }

  get #authorizedKeysPath(): string {
    return `${this.dir}/authorized_keys`;
  }

  async setAuthorizedKeys(lines: string[]): Promise<void> {
    const path = this.#authorizedKeysPath;
    const tmp = `${path}.tmp`;
    await Deno.writeTextFile(tmp, lines.map((l) => l.trim()).filter(Boolean).map((l) => `${l}\n`).join(""), {
      mode: 0o600,
    });
    await Deno.chmod(tmp, 0o600);
    // sshd reads authorized_keys as the login user.
    if (this.#owner) await Deno.chown(tmp, this.#owner.uid, this.#owner.gid);
    await Deno.rename(tmp, path);
  }

  async readAuthorizedKeys(): Promise<string[]> {
    const text = await Deno.readTextFile(this.#authorizedKeysPath);
    return text.split("\n").filter((l) => l.trim() !== "");
  }

  async start(): Promise<void> {
    if (this.#child) return;
    const d = this.dir;
    await Deno.mkdir(`${d}/run/sshd`, { recursive: true, mode: 0o755 });
    const binds = [`mount --bind ${shQuote(`${d}/run`)} /run`];
    for (const record of LOGIN_RECORDS) {
      if (await Deno.stat(record).then(() => true, () => false)) {
        binds.push(`mount --bind ${shQuote(`${d}/empty`)} ${record}`);
      }
    }
    for (const b of this.binds) binds.push(`mount --bind ${shQuote(b.source)} ${shQuote(b.target)}`);
    const script = [
      `exec 2>>${shQuote(`${d}/stderr.log`)}`,
      ...binds,
      `exec ${SSHD} -D -e -f ${shQuote(`${d}/sshd_config`)} -E ${shQuote(`${d}/sshd.log`)}`,
    ].join(" && ");
    // unshare --fork makes sshd PID 1 of a new PID namespace: when it exits, the kernel kills every
    // session process it left. --kill-child kills sshd when unshare dies; setpriv kills unshare when
    // the test process dies, so nothing outlives a crashed test run.
    const prefix = this.netns ? ["netns", "exec", this.netns, "setpriv"] : [];
    const command = new Deno.Command(this.netns ? "ip" : "setpriv", {
      args: [
        ...prefix,
        "--pdeathsig",
        "SIGKILL",
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "--pid",
        "--fork",
        "--kill-child",
        "sh",
        "-c",
        script,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    });
    const child = command.spawn();
    this.#child = child;
    this.#status = child.status;
    let exited = false;
    child.status.then(() => exited = true);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (true) {
      if (exited) {
        this.#child = null;
        this.#status = null;
        throw new Error(`sshd exited before it was ready:\n${await this.log()}`);
      }
      if (await answersSsh(this.host, this.port)) return;
      if (Date.now() > deadline) {
        await this.stop();
        throw new Error(`sshd did not answer on ${this.host}:${this.port} within 10 s:\n${await this.log()}`);
      }
      await delay(20);
    }
  }

  async stop(): Promise<void> {
    const child = this.#child;
    const status = this.#status;
    if (!child || !status) return;
    let done = false;
    status.then(() => done = true);
    // unshare ignores SIGTERM while it waits, so the graceful signal goes to sshd itself.
    const sshdPid = await this.#sshdPid(child.pid);
    if (sshdPid !== null) {
      try {
        Deno.kill(sshdPid, "SIGTERM");
      } catch {
        // already gone
      }
    }
    const deadline = Date.now() + STOP_GRACE_MS;
    while (!done && Date.now() < deadline) await delay(10);
    if (!done) {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
    await status;
    this.#child = null;
    this.#status = null;
  }

  async close(): Promise<void> {
    await this.stop();
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }

  async log(): Promise<string> {
    const read = (name: string) => Deno.readTextFile(`${this.dir}/${name}`).catch(() => "");
    const [log, stderr] = await Promise.all([read("sshd.log"), read("stderr.log")]);
    return stderr ? `${log}\n--- stderr ---\n${stderr}` : log;
  }

  /** The host PID of sshd: the child of unshare. */
  async #sshdPid(unsharePid: number): Promise<number | null> {
    for (let i = 0; i < 50; i++) {
      const text = await Deno.readTextFile(`/proc/${unsharePid}/task/${unsharePid}/children`).catch(() => null);
      if (text === null) return null;
      const pid = Number(text.trim().split(/\s+/)[0]);
      if (Number.isInteger(pid) && pid > 0) return pid;
      await delay(10);
    }
    return null;
  }
}

/** Starts a private sshd and resolves once it answers. */
export async function startSshd(opts: SshdOptions = {}): Promise<Sshd> {
  const host = opts.listenAddress ?? "127.0.0.1";
  // Inside a network namespace no host port can collide; probe the host's loopback otherwise.
  const port = opts.port ?? (opts.netns ? freePort() : freePort(host));
  const user = opts.user ?? TEST_USER;
  if (user === TEST_USER) await ensureTestUser();
  if (!await Deno.stat(SSHD).then(() => true, () => false)) {
    throw new Error(`OpenSSH server is not installed at ${SSHD} (Debian package "openssh-server")`);
  }
  const hostKey = opts.hostKey ?? sshKeyPair();
  const dir = await Deno.makeTempDir({ prefix: "claworc_sshd_" });
  try {
    await Deno.writeTextFile(`${dir}/host_key`, hostKey.private.trimEnd() + "\n", { mode: 0o600 });
    await Deno.chmod(`${dir}/host_key`, 0o600);
    await Deno.writeTextFile(`${dir}/host_key.pub`, publicKeyLine(hostKey.public) + "\n");
    await Deno.writeTextFile(`${dir}/empty`, "");
    const config = [
      `Port ${port}`,
      `ListenAddress ${host}`,
      `HostKey ${dir}/host_key`,
      `PidFile ${dir}/sshd.pid`,
      `AuthorizedKeysFile ${dir}/authorized_keys`,
      `AllowUsers ${user}`,
      "StrictModes no",
      "PubkeyAuthentication yes",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "UsePAM no",
      "PermitRootLogin prohibit-password",
      "AllowTcpForwarding yes",
      "Subsystem sftp internal-sftp",
      "LogLevel VERBOSE",
      "MaxStartups 200:30:300",
      "MaxSessions 100",
      "UseDNS no",
      opts.extraConfig ?? "",
    ].join("\n") + "\n";
    await Deno.writeTextFile(`${dir}/sshd_config`, config);
    const owner = user === "root" ? null : await userIds(user);
    // Another login user must be able to reach its authorized_keys in the folder.
    if (owner) await Deno.chmod(dir, 0o711);
    const sshd = new TestSshd(
      dir,
      host,
      port,
      user,
      publicKeyLine(hostKey.public),
      owner,
      opts.netns ?? null,
      opts.binds,
    );
    await sshd.setAuthorizedKeys(opts.authorizedKeys ?? []);
    await sshd.start();
    return sshd;
  } catch (err) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw err;
  }
}

/** What `connectClient` needs besides the server. */
export interface ClientOptions {
  /** OpenSSH-format private key. */
  privateKey: string;
  /** Source address of the TCP connection. */
  localAddress?: string;
  /** Sees the raw host key blob; default accepts any. */
  hostVerifier?: (key: Uint8Array) => boolean;
  /** ssh2's algorithm lists (default: ssh2's own preferences). */
  algorithms?: ConnectConfig["algorithms"];
}

/** Opens an authenticated ssh2 client to a test sshd; rejects when the connection or authentication fails. */
export function connectClient(sshd: Pick<Sshd, "host" | "port" | "user">, opts: ClientOptions): Promise<ssh2.Client> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    client.once("close", () => closedClients.add(client));
    let settled = false;
    client.once("ready", () => {
      settled = true;
      resolve(client);
    });
    // `on`, not `once`: a refused client can see a second error (a reset) that must not go uncaught.
    client.on("error", (err: Error) => {
      if (settled) return;
      settled = true;
      client.end();
      reject(err);
    });
    client.once("close", () => {
      if (settled) return;
      settled = true;
      reject(new Error("connection closed before it was ready"));
    });
    client.connect({
      host: sshd.host,
      port: sshd.port,
      username: sshd.user,
      privateKey: opts.privateKey,
      localAddress: opts.localAddress,
      algorithms: opts.algorithms,
      readyTimeout: 5_000,
      hostVerifier: (key: Uint8Array) => opts.hostVerifier ? opts.hostVerifier(key) : true,
    });
  });
}

const closedClients = new WeakSet<ssh2.Client>();

/** Ends a client from `connectClient` and waits until its socket is closed. */
export function endClient(client: ssh2.Client): Promise<void> {
  if (closedClients.has(client)) return Promise.resolve();
  return new Promise((resolve) => {
    client.once("close", () => resolve());
    client.end();
  });
}
