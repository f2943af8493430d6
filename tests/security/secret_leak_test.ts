/**
 * Secret leak scan, end to end: a real control plane (real HTTP server) on Podman with one agent
 * container, the real OpenClaw gateway and a fake model, driven with known secret values: the master
 * key, passwords (including a mistyped one), provider API keys (global, built-in, instance override),
 * the metrics token, the instance's gateway token, session tokens, the stored password hashes and the
 * control plane's SSH private key. Everything the control plane emits is captured: every HTTP answer
 * (status, headers, body) of what a user does, the pages, the SSE streams (live events, logs), every
 * chat WebSocket frame, every log line (a capturing logger at debug level), anything written to the
 * console, and every audit entry. None of the secrets may appear in any of it, raw, as a substring of
 * at least 48 bits (8 characters of a base64-like secret, 12 of a hex one), or base64, base64url, hex,
 * JSON- or URL-encoded. Masked values (`****` + the last four characters) are allowed and looked for,
 * to show the scan does not trip on them. The only place a session token may appear is the
 * Set-Cookie header of the answer that issued it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../core/config.ts";
import { createLogger } from "../../core/log.ts";
import { startServer } from "../../core/server.ts";
import type { DockerBackend } from "../../plugins/docker/backend.ts";
import { dockerPlugin } from "../../plugins/docker/mod.ts";
import { builtinPlugins } from "../../plugins/mod.ts";
import { coreRoutes, errorPage } from "../../routes/mod.ts";
import { AGENT_IMAGE, buildAgentImage } from "../../scripts/build_agent_image.ts";
import { fakeModelRequests, fakeModelsChoice, startFakeModel } from "../harness/agent_model.ts";
import { startPodman } from "../harness/podman.ts";
import { ChatClient } from "../plugins/chat/_chat_client.ts";

// ---------------------------------------------------------------------------------------------------
// Encodings and the scanner.

const enc = new TextEncoder();
const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const b64url = (bytes: Uint8Array) => b64(bytes).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const fromB64 = (s: string) =>
  Uint8Array.from(atob(s.replaceAll("-", "+").replaceAll("_", "/")), (c) => c.charCodeAt(0));
const randomText = (bytes: number) => b64url(crypto.getRandomValues(new Uint8Array(bytes)));

/**
 * A value that must never be emitted. `bytes`: its decoded form, when it is an encoding of bytes.
 * `whole`: looked for whole only (a structured value whose frame is public, e.g. a key file's header;
 * its secret part is a secret of its own).
 */
interface Secret {
  name: string;
  value: string;
  bytes?: Uint8Array;
  whole?: boolean;
}

/** One string the scan looks for, and what it stands for. */
interface Needle {
  secret: string;
  form: string;
  text: string;
}

/** Characters a window must have so a chance match is negligible: 48 bits of the secret's alphabet. */
function windowLength(value: string): number {
  return /^[0-9a-fA-F]+$/.test(value) ? 12 : 8;
}

/**
 * What to look for: each secret whole and in every encoding (of its text, and of its bytes when it
 * encodes some), and every window of it of `windowLength` characters, which also finds any longer
 * substring. The last four characters alone (what masked values show) are not a window.
 */
function needlesOf(secrets: Secret[]): { whole: Needle[]; windows: Map<number, Map<string, Needle[]>> } {
  const whole: Needle[] = [];
  /** By window length, then window text: the secrets having that window. */
  const windows = new Map<number, Map<string, Needle[]>>();
  for (const s of secrets) {
    const forms: [string, string][] = [
      ["raw", s.value],
      ["base64", b64(enc.encode(s.value))],
      ["base64 unpadded", b64(enc.encode(s.value)).replace(/=+$/, "")],
      ["base64url", b64url(enc.encode(s.value))],
      ["hex", hex(enc.encode(s.value))],
      ["HEX", hex(enc.encode(s.value)).toUpperCase()],
      ["JSON-escaped", JSON.stringify(s.value).slice(1, -1)],
      ["URL-encoded", encodeURIComponent(s.value)],
    ];
    if (s.bytes) {
      forms.push(
        ["bytes as base64", b64(s.bytes)],
        ["bytes as base64url", b64url(s.bytes)],
        ["bytes as hex", hex(s.bytes)],
        ["bytes as HEX", hex(s.bytes).toUpperCase()],
      );
    }
    const seen = new Set<string>();
    for (const [form, text] of forms) {
      if (seen.has(text)) continue;
      seen.add(text);
      whole.push({ secret: s.name, form, text });
    }
    if (s.whole) continue;
    const parts = [s.value, ...(s.bytes ? [hex(s.bytes), b64(s.bytes)] : [])];
    for (const part of parts) {
      const w = windowLength(part);
      if (part.length < w) throw new Error(`${s.name} is shorter than a window (${w})`);
      const byText = windows.get(w) ?? new Map<string, Needle[]>();
      windows.set(w, byText);
      for (let i = 0; i + w <= part.length; i++) {
        const text = part.slice(i, i + w);
        const list = byText.get(text) ?? [];
        byText.set(text, list);
        if (!list.some((n) => n.secret === s.name)) {
          list.push({ secret: s.name, form: `${w}-character substring`, text });
        }
      }
    }
  }
  return { whole, windows };
}

/** A place a secret was found. */
interface Finding {
  secret: string;
  form: string;
  where: string;
  context: string;
}

/**
 * Scans `text` for every needle (each secret and form reported once); the context shown has the match
 * itself blanked out.
 */
function scan(text: string, where: string, needles: ReturnType<typeof needlesOf>): Finding[] {
  const found: Finding[] = [];
  const reported = new Set<string>();
  const report = (n: Needle, at: number) => {
    if (reported.has(`${n.secret}\n${n.form}`)) return;
    reported.add(`${n.secret}\n${n.form}`);
    const context = text.slice(Math.max(0, at - 60), at) + "[…]" +
      text.slice(at + n.text.length, at + n.text.length + 60);
    found.push({ secret: n.secret, form: n.form, where, context });
  };
  for (const n of needles.whole) {
    const at = text.indexOf(n.text);
    if (at >= 0) report(n, at);
  }
  for (const [w, byText] of needles.windows) {
    for (let i = 0; i + w <= text.length; i++) {
      for (const n of byText.get(text.slice(i, i + w)) ?? []) report(n, i);
    }
  }
  return found;
}

// ---------------------------------------------------------------------------------------------------
// Capture.

type Channel = "http" | "sse" | "websocket" | "log" | "console" | "audit";

/** Everything the control plane emitted, by channel, with a label saying which request or stream. */
class Capture {
  readonly pieces: { channel: Channel; label: string; text: string }[] = [];
  add(channel: Channel, label: string, text: string): void {
    this.pieces.push({ channel, label, text });
  }
  of(channel: Channel): string {
    return this.pieces.filter((p) => p.channel === channel).map((p) => p.text).join("\n");
  }
  count(channel: Channel): number {
    return this.pieces.filter((p) => p.channel === channel).length;
  }
}

/** The 32-byte seed of an OpenSSH ED25519 private key file (what must stay on the control plane). */
function ed25519Seed(pem: string): Uint8Array {
  const buf = fromB64(pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""));
  let at = "openssh-key-v1\0".length;
  const view = new DataView(buf.buffer, buf.byteOffset);
  const field = () => {
    const n = view.getUint32(at);
    const out = buf.subarray(at + 4, at + 4 + n);
    at += 4 + n;
    return out;
  };
  field(), field(), field(); // cipher, KDF, KDF options ("none": not encrypted)
  at += 4; // number of keys
  field(); // public key
  const priv = field();
  // checkint ×2, key type, public key, then the private key: seed (32) + public key (32).
  at = 8;
  const p = new DataView(priv.buffer, priv.byteOffset);
  const sub = () => {
    const n = p.getUint32(at);
    const out = priv.subarray(at + 4, at + 4 + n);
    at += 4 + n;
    return out;
  };
  sub(), sub();
  const secret = sub();
  assert.equal(secret.length, 64, "an ED25519 private key");
  return secret.slice(0, 32);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every `everyMs` (each poll may be an HTTP request, so not too often). */
async function poll(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string, everyMs = 500) {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(everyMs)) {
    if (await check()) return;
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

Deno.test({
  name: "secret leak scan: no known secret in any HTTP answer, page, SSE event, chat frame, log line or audit entry",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const started = performance.now();
    const podman = await startPodman();
    await buildAgentImage(undefined, podman.env);
    const tag = crypto.randomUUID().slice(0, 6);
    const network = `claworc-leak-${tag}`;
    const dataPath = await Deno.makeTempDir({ prefix: "claworc-leak-" });
    const ready = performance.now();

    // Known values (random, so no window of one can be ordinary text; URL- and JSON-safe characters).
    const masterBytes = crypto.getRandomValues(new Uint8Array(32));
    const known = {
      masterKey: b64(masterBytes).replaceAll("+", "-").replaceAll("/", "_"),
      adminPassword: `A${randomText(15)}`,
      userPassword: `U${randomText(15)}`,
      userNewPassword: `N${randomText(15)}`,
      mistypedPassword: `W${randomText(15)}`,
      globalKey: `gk-${randomText(24)}`,
      openaiKey: `sk-${randomText(24)}`,
      instanceKey: `ik-${randomText(24)}`,
      rejectedKey: `rk-${randomText(24)}`,
      metricsToken: `mt-${randomText(30)}`,
    };
    const capture = new Capture();
    const logLines: string[] = [];
    const log = createLogger("debug", "core", (line) => {
      logLines.push(line);
      capture.add("log", "logger", line);
    });
    // Anything printed around the logger (a library, a stray console call) counts too.
    const original = { ...console };
    for (const level of ["log", "error", "warn", "info", "debug"] as const) {
      console[level] = (...args: unknown[]) => {
        capture.add("console", level, args.map((a) => typeof a === "string" ? a : Deno.inspect(a)).join(" "));
        original[level](...args);
      };
    }
    const config = loadConfig((n) =>
      ({
        CLAWORC_DATA_PATH: dataPath,
        CLAWORC_PORT: "0",
        CLAWORC_AGENT_IMAGE: AGENT_IMAGE,
        CLAWORC_SECRET_KEY: known.masterKey,
        CLAWORC_METRICS_TOKEN: known.metricsToken,
        CLAWORC_LOG_LEVEL: "debug",
      })[n]
    );
    const server = await startServer(config, {
      routes: coreRoutes,
      plugins: [
        ...builtinPlugins().filter((p) => p.name !== "docker"),
        dockerPlugin({ socketPath: podman.socketPath, network }),
      ],
      errorPage,
    }, { log });
    const s = server.services;
    const backend = s.runtime.backend as DockerBackend;
    const issued: string[] = [];
    const streams: { stop(): Promise<void> }[] = [];
    const chats: ChatClient[] = [];
    let name = "";
    let frames = 0;

    /** A request as a browser on the server's origin sends it; the whole answer is captured. */
    const call = async (
      method: string,
      path: string,
      opts: { cookie?: string; body?: unknown; headers?: Record<string, string>; issuesSession?: boolean } = {},
    ) => {
      const headers: Record<string, string> = { origin: server.url, ...opts.headers };
      if (opts.cookie) headers.cookie = opts.cookie;
      if (opts.body !== undefined) headers["content-type"] = "application/json";
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        redirect: "manual",
      });
      const text = await res.text();
      const lines = [`${res.status} ${res.statusText}`];
      let cookie = "";
      for (const [k, v] of res.headers) {
        if (k === "set-cookie" && opts.issuesSession && v.startsWith("claworc_session=")) {
          // The one legitimate place of a session token: the answer that issues it, to its owner.
          cookie = v.split(";")[0];
          issued.push(cookie.slice("claworc_session=".length));
          lines.push(`${k}: claworc_session=<issued>;${v.split(";").slice(1).join(";")}`);
        } else lines.push(`${k}: ${v}`);
      }
      capture.add("http", `${method} ${path} → ${res.status}`, `${lines.join("\n")}\n\n${text}`);
      return {
        status: res.status,
        text,
        cookie,
        // deno-lint-ignore no-explicit-any
        json: (): any => JSON.parse(text),
      };
    };
    const ok = async (method: string, path: string, opts: Parameters<typeof call>[2] = {}) => {
      const r = await call(method, path, opts);
      assert.ok(r.status < 400, `${method} ${path} answered ${r.status}: ${r.text.slice(0, 300)}`);
      return r;
    };
    /** Reads an event stream in the background until it ends or `stop()`; captured as one piece. */
    const stream = async (path: string, cookie: string) => {
      const res = await fetch(`${server.url}${path}`, { headers: { cookie, origin: server.url } });
      assert.equal(res.status, 200, path);
      const head = [`${res.status}`, ...[...res.headers].map(([k, v]) => `${k}: ${v}`)].join("\n");
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = "";
      let ended = false;
      const done = (async () => {
        for (;;) {
          const { value, done } = await reader.read().catch(() => ({ value: "", done: true }));
          if (done) break;
          text += value;
        }
        ended = true;
        capture.add("sse", `GET ${path}`, `${head}\n\n${text}`);
      })();
      const handle = {
        text: () => text,
        ended: () => ended,
        async stop() {
          await reader.cancel().catch(() => {});
          await done;
        },
      };
      streams.push(handle);
      return handle;
    };

    try {
      // Anonymous pages, then the first admin.
      await ok("GET", "/api/v1/auth/setup-required");
      await ok("GET", "/setup");
      const setup = await ok("POST", "/api/v1/auth/setup", {
        body: { username: "admin", password: known.adminPassword },
        issuesSession: true,
      });
      const admin = setup.cookie;
      assert.ok(admin);
      const events = await stream("/api/v1/events", admin);

      // Global models and keys before the instance exists: the custom fake provider and a built-in one.
      await ok("PUT", "/api/v1/models", {
        cookie: admin,
        body: fakeModelsChoice({ fake: known.globalKey, openai: known.openaiKey }),
      });
      // Refused requests carrying a key: the answer names the field, never echoes the value.
      assert.equal(
        (await call("PUT", "/api/v1/models", { cookie: admin, body: { keys: { nosuch: known.rejectedKey } } })).status,
        400,
      );
      assert.equal(
        (await call("PUT", "/api/v1/models", { cookie: admin, body: { keys: { fake: `${known.rejectedKey}\n x` } } }))
          .status,
        400,
      );

      // The instance, with its own key set while it is being created.
      const created = await ok("POST", "/api/v1/instances", {
        cookie: admin,
        body: { display_name: `Leak Scan ${tag}` },
      });
      const id: number = created.json().id;
      name = created.json().name;
      await ok("PUT", `/api/v1/instances/${id}/models`, { cookie: admin, body: { keys: { fake: known.instanceKey } } });
      await poll(
        async () => {
          const op = (await ok("GET", `/api/v1/instances/${id}/operation`, { cookie: admin })).json();
          if (op?.state === "failed") throw new Error(`creation failed: ${JSON.stringify(op.steps)}`);
          return op?.state === "succeeded";
        },
        180_000,
        "the instance to be chat-ready",
        1_000,
      );
      const chatReadyAt = performance.now();

      // The gateway token: stored encrypted by the control plane, and the file the agent's gateway reads.
      const gatewayToken = await s.secrets.decrypt(s.instances.gatewayToken(id));
      const inContainer = (await s.ssh.exec(id, "cat /run/agent/gateway_token")).stdout.trim();
      assert.equal(inContainer, gatewayToken, "the container's token is the stored one");
      assert.match(gatewayToken, /^[0-9a-f]{64}$/);

      // A user assigned to the instance; a mistyped sign-in; a password change.
      const userId: number = (await ok("POST", "/api/v1/users", {
        cookie: admin,
        body: { username: "user1", password: known.userPassword, role: "user" },
      })).json().id;
      await ok("PUT", `/api/v1/users/${userId}/instances`, { cookie: admin, body: { instance_ids: [id] } });
      const wrong = await call("POST", "/api/v1/auth/login", {
        body: { username: "user1", password: known.mistypedPassword },
      });
      assert.equal(wrong.status, 401);
      const user = (await ok("POST", "/api/v1/auth/login", {
        body: { username: "user1", password: known.userPassword },
        issuesSession: true,
      })).cookie;
      const badChange = await call("POST", "/api/v1/auth/change-password", {
        cookie: user,
        body: { current_password: known.mistypedPassword, new_password: known.userNewPassword },
      });
      assert.equal(badChange.status, 401);
      await ok("POST", "/api/v1/auth/change-password", {
        cookie: user,
        body: { current_password: known.userPassword, new_password: known.userNewPassword },
      });

      // The instance's key reaches the agent (no restart left to come), then one chat round trip.
      await startFakeModel(server, id, [known.instanceKey, known.globalKey]);
      await poll(
        async () =>
          (await ok("GET", `/api/v1/instances/${id}/models`, { cookie: admin })).json().sync.state === "applied",
        120_000,
        "the instance's models to be applied",
        1_000,
      );
      const wsUrl = `${server.url.replace("http", "ws")}/api/v1/instances/${id}/chat`;
      let chat: ChatClient | null = null;
      for (const deadline = Date.now() + 120_000; !chat && Date.now() < deadline;) {
        const c = new ChatClient(wsUrl, { cookie: user, origin: server.url });
        chats.push(c);
        await poll(() => c.ready() || c.closed !== null, 60_000, "the chat to be ready or closed", 50);
        if (c.ready()) chat = c;
        else await sleep(1_000);
      }
      assert.ok(chat, "the chat became ready");
      chat.send({ type: "send", text: `Say hello ECHO-${tag}` });
      await poll(() => chat.of("final").length > 0 || chat.of("error").length > 0, 120_000, "the reply", 100);
      const reply = `Hello from the fake model (fake-model). Heard ECHO-${tag}.`;
      assert.equal(chat.of("final")[0]?.text, reply, JSON.stringify(chat.of("error")));
      const asked = (await fakeModelRequests(server, id)).filter((r) => r.said.includes(`ECHO-${tag}`));
      assert.ok(asked.length > 0 && asked.every((r) => r.auth === `Bearer ${known.instanceKey}`), "the override key");
      const chatted = performance.now();

      // What an admin and a user look at.
      const rollout = (await ok("PUT", `/api/v1/instances/${id}/models`, { cookie: admin, body: {} })).json().rollout;
      for (
        const path of [
          "/health",
          "/api/v1/openapi.json",
          "/api/v1/engine",
          "/api/v1/auth/me",
          "/api/v1/instances",
          `/api/v1/instances/${id}`,
          `/api/v1/instances/${id}/operation`,
          `/api/v1/instances/${id}/ssh-status`,
          `/api/v1/instances/${id}/ssh-events`,
          `/api/v1/instances/${id}/tunnels`,
          `/api/v1/instances/${id}/ssh-test`,
          "/api/v1/ssh-fingerprint",
          "/api/v1/models",
          `/api/v1/instances/${id}/models`,
          `/api/v1/models/rollouts/${rollout.id}`,
          "/api/v1/settings",
          "/api/v1/users",
          `/api/v1/users/${userId}/instances`,
          `/api/v1/instances/${id}/config`,
          `/api/v1/instances/${id}/logs/types`,
          `/api/v1/instances/${id}/terminal/sessions`,
          `/api/v1/instances/${id}/terminal/recordings`,
          `/api/v1/instances/${id}/files/browse?path=${encodeURIComponent("/home/agent/.openclaw")}`,
          "/metrics",
          "/api/v1/audit-logs?limit=1000",
          "/api/v1/audit-logs/actions",
        ]
      ) await ok("GET", path, { cookie: admin });
      await ok("GET", "/metrics", { headers: { authorization: `Bearer ${known.metricsToken}` } });
      const config = (await ok("GET", `/api/v1/instances/${id}/config`, { cookie: admin })).json();
      await ok("POST", `/api/v1/instances/${id}/config/validate`, { cookie: admin, body: { content: config.content } });
      for (const path of ["/api/v1/auth/me", "/api/v1/instances", `/api/v1/instances/${id}`]) {
        await ok("GET", path, { cookie: user });
      }
      await ok("GET", `/api/v1/instances/${id}/models`, { cookie: user });
      await call("GET", "/api/v1/nowhere", { cookie: admin });
      await call("GET", "/nowhere", { cookie: admin });

      // Pages.
      const tabs = ["chat", "desktop", "ssh", "terminal", "files", "logs", "models", "config"];
      assert.equal((await call("GET", `/instances/${id}`, { cookie: admin })).status, 302);
      for (
        const path of [
          "/",
          ...tabs.map((tab) => `/instances/${id}/${tab}`),
          `/instances/${id}/desktop/popout`,
          "/models",
          "/settings",
          "/account",
          "/users",
          "/audit",
        ]
      ) await ok("GET", path, { cookie: admin });
      for (const path of ["/", `/instances/${id}/chat`, "/account"]) await ok("GET", path, { cookie: user });
      await ok("GET", "/login");

      // Logs of the instance: OpenClaw's, sshd's, supervisord's and the container console.
      for (const type of ["openclaw", "sshd", "supervisor", "system"]) {
        const logs = await stream(`/api/v1/instances/${id}/logs?type=${type}&tail=2000`, admin);
        await poll(() => logs.ended(), 30_000, `the ${type} log`, 100).catch(() => logs.stop());
      }

      // Sign-outs end the scenario; the events stream then stops (heard everything since setup).
      await ok("POST", "/api/v1/auth/logout", { cookie: user });
      chat.close();
      await poll(() => chat.closed !== null, 10_000, "the chat to close", 50);
      await events.stop();
      for (const c of chats) {
        for (const f of c.raw) capture.add("websocket", "chat", f);
        frames += c.raw.length;
        c.close();
      }
      for (const e of s.audit.query({ limit: 100_000, offset: 0 }).entries) {
        capture.add("audit", `${e.action} #${e.id}`, JSON.stringify(e));
      }

      // Secrets known only now: the gateway token, session tokens, password hashes, the SSH key.
      const secrets: Secret[] = [
        { name: "master key", value: known.masterKey, bytes: masterBytes },
        { name: "master key's signing half", value: hex(masterBytes.slice(0, 16)), bytes: masterBytes.slice(0, 16) },
        { name: "master key's encryption half", value: hex(masterBytes.slice(16)), bytes: masterBytes.slice(16) },
        { name: "admin password", value: known.adminPassword },
        { name: "user password", value: known.userPassword },
        { name: "user's new password", value: known.userNewPassword },
        { name: "mistyped password", value: known.mistypedPassword },
        { name: "global provider key", value: known.globalKey },
        { name: "built-in provider key", value: known.openaiKey },
        { name: "instance override key", value: known.instanceKey },
        { name: "refused key", value: known.rejectedKey },
        { name: "metrics token", value: known.metricsToken },
        {
          name: "gateway token",
          value: gatewayToken,
          bytes: Uint8Array.from(gatewayToken.match(/../g)!, (h) => parseInt(h, 16)),
        },
      ];
      assert.equal(issued.length, 2, "two sessions were issued");
      for (const [i, token] of issued.entries()) {
        secrets.push({ name: `session token ${i + 1}`, value: token, bytes: fromB64(token) });
      }
      const hashes = s.db.all<{ username: string; password_hash: string }>("SELECT username, password_hash FROM users");
      assert.equal(hashes.length, 2);
      for (const h of hashes) {
        const [, , , , salt, key] = h.password_hash.split("$");
        secrets.push(
          { name: `${h.username}'s password hash`, value: h.password_hash, whole: true },
          { name: `${h.username}'s password salt`, value: salt, bytes: fromB64(salt) },
          { name: `${h.username}'s password hash value`, value: key, bytes: fromB64(key) },
        );
      }
      const sshKey = await Deno.readTextFile(join(dataPath, "ssh_key"));
      const seed = ed25519Seed(sshKey);
      secrets.push(
        { name: "SSH private key file", value: sshKey.trim(), whole: true },
        { name: "SSH private key seed", value: b64(seed), bytes: seed },
      );

      // The scanner finds each secret in each form it looks for (else a clean result means nothing).
      const needles = needlesOf(secrets);
      for (const sec of secrets) {
        const v = sec.value;
        const mid = v.slice(Math.floor(v.length / 2) - 6, Math.floor(v.length / 2) + 6);
        for (const planted of [v, b64(enc.encode(v)), hex(enc.encode(v)), ...(sec.whole ? [] : [`x${mid}y`])]) {
          assert.ok(scan(`<p>${planted}</p>`, "self-test", needles).some((f) => f.secret === sec.name), sec.name);
        }
      }
      assert.deepEqual(scan(`key ****${known.globalKey.slice(-4)}`, "self-test", needles), [], "masked is fine");

      // The capture holds what the scenario did.
      assert.ok(capture.of("http").includes(name), "the instance's name in the API answers");
      assert.ok(capture.of("http").includes(`****${known.globalKey.slice(-4)}`), "the global key, masked");
      assert.ok(capture.of("http").includes(`****${known.instanceKey.slice(-4)}`), "the override key, masked");
      assert.ok(capture.of("http").includes('"openapi"'), "the OpenAPI document");
      assert.match(config.content, /"provider": "claworc"/, "the config answer holds SecretRefs");
      assert.ok(capture.of("websocket").includes(reply), "the chat reply in the frames");
      assert.match(capture.of("sse"), /event: operation[\s\S]*"state":"succeeded"/, "operation events");
      assert.ok(capture.of("sse").includes(`"name":"${name}"`), "instance events");
      assert.match(capture.of("sse"), /event: line\n/, "log lines were streamed");
      assert.ok(logLines.some((l) => l.includes("claworc listening")), "the logger captured the start");
      assert.ok(logLines.some((l) => l.includes('"level":"debug"')), "debug lines too");
      const actions = new Set(s.audit.query({ limit: 100_000, offset: 0 }).entries.map((e) => e.action));
      for (
        const a of ["auth.setup", "auth.login", "models.update", "models.instance.update", "chat.send", "logs.view"]
      ) {
        assert.ok(actions.has(a), `audit has ${a}`);
      }

      // The scan (LEAK_SCAN_DUMP=<file> keeps what was scanned, to look at).
      const dump = Deno.env.get("LEAK_SCAN_DUMP");
      if (dump) {
        await Deno.writeTextFile(dump, capture.pieces.map((p) => `=== ${p.channel}: ${p.label}\n${p.text}`).join("\n"));
      }
      const findings = capture.pieces.flatMap((p) => scan(p.text, `${p.channel}: ${p.label}`, needles));
      const channels: Channel[] = ["http", "sse", "websocket", "log", "console", "audit"];
      const bytes = capture.pieces.reduce((n, p) => n + enc.encode(p.text).length, 0);
      const scanned = performance.now();
      console.log(
        `secret leak scan: ${secrets.length} secrets (${needles.whole.length} whole forms, ${
          [...needles.windows.values()].reduce((n, m) => n + m.size, 0)
        } windows) × ${channels.length} channels; ${bytes} bytes in ${capture.pieces.length} pieces: ${
          channels.map((c) => `${c} ${capture.count(c)}`).join(", ")
        }; ${frames} chat frames, ${logLines.length} log lines; setup ${Math.round(ready - started)} ms, ` +
          `create ${Math.round(chatReadyAt - ready)} ms, chat ${Math.round(chatted - chatReadyAt)} ms, ` +
          `rest and scan ${Math.round(scanned - chatted)} ms`,
      );
      assert.deepEqual(findings, [], "secrets found in what the control plane emitted");
    } finally {
      Object.assign(console, original);
      for (const c of chats) c.close();
      for (const st of streams) await st.stop();
      if (name) await backend.remove(name).catch(() => {});
      await backend.docker.getNetwork(network).remove().catch(() => {});
      await server.close();
      await podman.stop();
      await Deno.remove(dataPath, { recursive: true });
    }
  },
});
