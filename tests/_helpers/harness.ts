import { loadConfig } from "../../core/config.ts";
import { openServices } from "../../core/boot.ts";
import { type ClaworcApp, createApp } from "../../core/app.ts";
import { ManualClock } from "../../core/clock.ts";
import { silentLogger } from "../../core/log.ts";
import type { Plugin } from "../../core/plugins/contract.ts";
import { coreRoutes, errorPage } from "../../routes/mod.ts";
import { builtinPlugins } from "../../plugins/mod.ts";
import type { SshOptions } from "../../core/ssh/options.ts";
import type { AgentConfigOptions } from "../../core/openclaw/agent_config.ts";
import { FAST } from "../harness/pool.ts";

export const ORIGIN = "http://claworc.test";
/** The headers of a whole WebSocket handshake, for requests through `app.request()` (RFC 6455's sample key). */
export const WS_HANDSHAKE = {
  upgrade: "websocket",
  connection: "Upgrade",
  "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
  "sec-websocket-version": "13",
} as const;
export const ADMIN = { username: "admin", password: "admin-password-1" };

/** A full app over a temp data folder, driven through `app.request()` (no server process). */
export interface TestApp extends ClaworcApp {
  clock: ManualClock;
  dataPath: string;
  /** Sends a request as a browser on ORIGIN would (Origin header on state changes). */
  request(method: string, path: string, opts?: RequestOptions): Promise<Response>;
  /** Signs in; returns the session cookie header value. */
  login(username: string, password: string): Promise<string>;
  /** Runs setup (first admin) and returns the admin's cookie. */
  setupAdmin(): Promise<string>;
  /** Creates a user as `adminCookie`; returns its id. */
  createUser(adminCookie: string, username: string, role?: "admin" | "user", password?: string): Promise<number>;
  close(): Promise<void>;
}

export interface RequestOptions {
  body?: unknown;
  rawBody?: string;
  cookie?: string;
  origin?: string | null;
  headers?: Record<string, string>;
  ip?: string;
}

/** Builds a test app; `env` overrides configuration variables. */
export async function testApp(
  env: Record<string, string> = {},
  plugins: readonly Plugin[] = builtinPlugins(),
  options: {
    ssh?: Partial<SshOptions>; /** Reuse this data folder (kept on close), as a restarted control plane would. */
    dataPath?: string;
    /** OpenClaw config timeouts (e.g. a shorter gateway wait). */
    agentConfig?: Partial<AgentConfigOptions>;
  } = {},
): Promise<TestApp> {
  const dataPath = options.dataPath ?? await Deno.makeTempDir({ prefix: "claworc-test-" });
  const config = loadConfig((name) => ({ CLAWORC_DATA_PATH: dataPath, CLAWORC_PUBLIC_URL: ORIGIN, ...env })[name]);
  const clock = new ManualClock(Date.now());
  const services = await openServices(config, {
    log: silentLogger,
    clock,
    ssh: { ...FAST, ...options.ssh },
    agentConfig: options.agentConfig,
  });
  const built = await createApp(services, { routes: coreRoutes, plugins, errorPage });
  await built.host.ready();

  const request = (method: string, path: string, opts: RequestOptions = {}) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.cookie) headers.cookie = opts.cookie;
    const origin = opts.origin === undefined ? ORIGIN : opts.origin;
    if (origin !== null && method !== "GET") headers.origin = origin;
    let body: string | undefined = opts.rawBody;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers["content-type"] = "application/json";
    }
    return Promise.resolve(
      built.app.request(`${ORIGIN}${path}`, { method, headers, body }, {
        remoteAddr: { hostname: opts.ip ?? "192.0.2.10" },
      }),
    );
  };

  const login = async (username: string, password: string) => {
    const res = await request("POST", "/api/v1/auth/login", { body: { username, password } });
    if (res.status !== 200) throw new Error(`login as ${username} failed: ${res.status} ${await res.text()}`);
    return sessionCookie(res);
  };

  return {
    ...built,
    clock,
    dataPath,
    request,
    login,
    async setupAdmin() {
      const res = await request("POST", "/api/v1/auth/setup", { body: ADMIN });
      if (res.status !== 201) throw new Error(`setup failed: ${res.status} ${await res.text()}`);
      return sessionCookie(res);
    },
    async createUser(adminCookie, username, role = "user", password = `${username}-password-1`) {
      const res = await request("POST", "/api/v1/users", { cookie: adminCookie, body: { username, password, role } });
      if (res.status !== 201) throw new Error(`create user failed: ${res.status} ${await res.text()}`);
      return (await res.json()).id;
    },
    async close() {
      services.lifecycle.detach();
      services.ssh.close();
      await built.host.close();
      services.db.close();
      if (!options.dataPath) await Deno.remove(dataPath, { recursive: true });
    },
  };
}

/** The `claworc_session=...` pair from a response's Set-Cookie. */
export function sessionCookie(res: Response): string {
  const set = res.headers.getSetCookie().find((c) => c.startsWith("claworc_session="));
  if (!set) throw new Error("no session cookie set");
  return set.split(";")[0];
}
