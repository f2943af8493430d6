/**
 * Audit completeness: every security-relevant action that works without a real container engine is
 * performed once, and exactly one new audit entry must appear for it, with the right actor (id and
 * name), target, outcome, instance and the request's IP. Rows run in order and share one app, so a row
 * may rely on what earlier rows made (users, an instance). Work a row needs first goes in `prepare`;
 * entries it records are not counted. Each row uses its own client IP, so a wrong IP cannot pass by
 * accident. To cover a new action, add a row.
 *
 * Instance actions run on a "paper" runtime backend defined here: it accepts what needs no running
 * container and holds each volume creation until the test lets it fail, so the entry for the accepted
 * request and the one for the failed operation are checked separately.
 */
import assert from "node:assert/strict";
import type { AuditEntry, AuditOutcome } from "../../core/audit/audit_log.ts";
import { definePlugin, type RuntimeBackend } from "../../core/mod.ts";
import { builtinPlugins } from "../../plugins/mod.ts";
import { type RequestOptions, sessionCookie, type TestApp, testApp } from "../_helpers/harness.ts";
import { until } from "../harness/pool.ts";

const PASSWORD = { admin: "admin-Pa55word-1", alice: "alice-Pa55word-1", bob: "bob-Pa55word-1" };

/** A runtime backend with no engine: stop and remove succeed, each volume creation waits for `failNext`. */
function paperBackend() {
  const waiting: { name: string; fail: (e: Error) => void }[] = [];
  const backend: RuntimeBackend = {
    name: "paper",
    available: () => Promise.resolve(true),
    createVolumes: (spec) => new Promise((_, reject) => waiting.push({ name: spec.name, fail: reject })),
    createWorkload: () => Promise.resolve(),
    removeWorkload: () => Promise.resolve(),
    start: () => Promise.reject(new Error("the paper backend runs nothing")),
    stop: () => Promise.resolve(),
    restart: () => Promise.reject(new Error("the paper backend runs nothing")),
    remove: () => Promise.resolve(),
    status: () => Promise.resolve({ status: "stopped" }),
    list: () => Promise.resolve([]),
    sshEndpoint: () => Promise.reject(new Error("the paper backend runs nothing")),
    logs: () => Promise.resolve(""),
  };
  return {
    plugin: definePlugin({ name: "paper-backend", needs: [], setup: (ctx) => ctx.provideBackend(backend) }),
    /** Names whose volume creation is waiting. */
    waiting: () => waiting.map((w) => w.name),
    /** Fails the oldest waiting volume creation with `message`. */
    failNext(message: string) {
      const next = waiting.shift();
      if (!next) throw new Error("no volume creation is waiting");
      next.fail(new Error(message));
    },
  };
}

/** What the rows share. */
interface World {
  t: TestApp;
  paper: ReturnType<typeof paperBackend>;
  /** Session cookies by username. */
  cookies: Record<string, string>;
  /** User ids by username. */
  users: Record<string, number>;
  /** The instance made by the create row, and its clone. */
  instance: { id: number; name: string };
  clone: { id: number; name: string };
  /** The IP each row's request came from, by row name (an operation's failure carries its request's). */
  ipOf: Record<string, string>;
  recordingId: string;
  /** The id of the last rollout the models API answered with. */
  rollout: string;
}

/** The entry a row must produce; `details` lists the keys that must have these values (others may exist). */
interface Expected {
  action: string;
  actor: { id: number | null; name: string };
  target: string;
  outcome: AuditOutcome;
  /** Defaults to null. */
  instanceId?: number | null;
  /** Defaults to the row's own IP. */
  ip?: string;
  details?: Record<string, unknown>;
}

interface Row {
  name: string;
  /** Done first; entries it records are not counted. */
  prepare?: (w: World, ip: string) => Promise<void>;
  /** The action, as a client sends it (or, for an operation failing later, what makes it fail). */
  act: (w: World, ip: string) => Promise<Response | void>;
  /** The answer's status when `act` is a request. */
  status?: number;
  /** Takes what later rows need from the answer (its JSON body, when it has one). */
  // deno-lint-ignore no-explicit-any
  learn?: (w: World, body: any, res: Response) => void;
  /** Waits for work the action started in the background (its entries count for this row). */
  settle?: (w: World) => Promise<unknown>;
  /** The one entry that must appear, or `none` with the reason none does. */
  expect: ((w: World) => Expected) | { none: string };
}

const admin = (w: World) => ({ id: w.users.admin, name: "admin" });
const as = (w: World, user: string, ip: string, opts: RequestOptions = {}): RequestOptions => ({
  ...opts,
  cookie: w.cookies[user],
  ip,
});

/** Signs `username` in from `ip` (records an auth.login entry; only used in `prepare`). */
async function signIn(w: World, username: string, password: string, ip: string): Promise<string> {
  const res = await w.t.request("POST", "/api/v1/auth/login", { body: { username, password }, ip });
  assert.equal(res.status, 200, await res.clone().text());
  return sessionCookie(res);
}

/** Waits until the instance's latest operation has ended. */
async function operationEnded(w: World, id: number): Promise<void> {
  await until(
    () => {
      const op = w.t.services.operations.latest(id);
      return op !== undefined && op !== null && op.state !== "running";
    },
    10_000,
    `the operation of instance ${id} to end`,
  );
}

/** Waits until the last rollout the models API started is done (instances not running are `waiting`). */
async function rolloutDone(w: World): Promise<void> {
  await until(
    async () => {
      const r = await (await w.t.request("GET", `/api/v1/models/rollouts/${w.rollout}`, { cookie: w.cookies.admin }))
        .json();
      return r.state === "done";
    },
    10_000,
    "the rollout to finish",
  );
}

const ROWS: Row[] = [
  // Authentication.
  {
    name: "first-run setup",
    act: (w, ip) =>
      w.t.request("POST", "/api/v1/auth/setup", { body: { username: "admin", password: PASSWORD.admin }, ip }),
    status: 201,
    learn(w, body, res) {
      w.cookies.admin = sessionCookie(res);
      w.users.admin = body.id;
    },
    expect: (w) => ({ action: "auth.setup", actor: admin(w), target: "admin", outcome: "success" }),
  },
  {
    name: "sign-in",
    act: (w, ip) =>
      w.t.request("POST", "/api/v1/auth/login", { body: { username: "admin", password: PASSWORD.admin }, ip }),
    status: 200,
    expect: (w) => ({ action: "auth.login", actor: admin(w), target: "admin", outcome: "success" }),
  },
  {
    name: "sign-in with a wrong password",
    act: (w, ip) =>
      w.t.request("POST", "/api/v1/auth/login", { body: { username: "admin", password: "nope-nope-1" }, ip }),
    status: 401,
    expect: () => ({
      action: "auth.login",
      actor: { id: null, name: "admin" },
      target: "admin",
      outcome: "failure",
      details: { reason: "wrong password" },
    }),
  },
  {
    name: "sign-in as an unknown user",
    act: (w, ip) =>
      w.t.request("POST", "/api/v1/auth/login", { body: { username: "nobody", password: "nope-nope-1" }, ip }),
    status: 401,
    expect: () => ({
      action: "auth.login",
      actor: { id: null, name: "nobody" },
      target: "nobody",
      outcome: "failure",
      details: { reason: "unknown user" },
    }),
  },
  {
    name: "sign-in while throttled (after 6 failures for the name)",
    async prepare(w, ip) {
      for (let i = 0; i < 6; i++) {
        const res = await w.t.request("POST", "/api/v1/auth/login", {
          body: { username: "mallory", password: `guess-${i}-guess` },
          ip,
        });
        assert.equal(res.status, 401);
      }
    },
    act: (w, ip) =>
      w.t.request("POST", "/api/v1/auth/login", { body: { username: "mallory", password: "guess-7-guess" }, ip }),
    status: 429,
    expect: () => ({
      action: "auth.login",
      actor: { id: null, name: "mallory" },
      target: "mallory",
      outcome: "denied",
      details: { reason: "throttled" },
    }),
  },
  {
    name: "sign-out (API)",
    async prepare(w, ip) {
      w.cookies.adminOut = await signIn(w, "admin", PASSWORD.admin, ip);
    },
    act: (w, ip) => w.t.request("POST", "/api/v1/auth/logout", as(w, "adminOut", ip)),
    status: 200,
    expect: (w) => ({ action: "auth.logout", actor: admin(w), target: "admin", outcome: "success" }),
  },
  {
    name: "sign-out (page form)",
    async prepare(w, ip) {
      w.cookies.adminOut = await signIn(w, "admin", PASSWORD.admin, ip);
    },
    act: (w, ip) => w.t.request("POST", "/logout", as(w, "adminOut", ip)),
    status: 303,
    expect: (w) => ({ action: "auth.logout", actor: admin(w), target: "admin", outcome: "success" }),
  },
  {
    name: "sign-out with an ended session",
    act: (w, ip) => w.t.request("POST", "/api/v1/auth/logout", as(w, "adminOut", ip)),
    status: 401,
    expect: { none: "no signed-in user: the request is refused before the handler" },
  },

  // Users (admin).
  {
    name: "user created",
    act: (w, ip) =>
      w.t.request(
        "POST",
        "/api/v1/users",
        as(w, "admin", ip, { body: { username: "alice", password: PASSWORD.alice } }),
      ),
    status: 201,
    learn: (w, body) => w.users.alice = body.id,
    expect: (w) => ({
      action: "user.create",
      actor: admin(w),
      target: "alice",
      outcome: "success",
      details: { user_id: w.users.alice, role: "user" },
    }),
  },
  {
    name: "role changed",
    async prepare(w, ip) {
      const res = await w.t.request(
        "POST",
        "/api/v1/users",
        as(w, "admin", ip, {
          body: { username: "bob", password: PASSWORD.bob, role: "user" },
        }),
      );
      assert.equal(res.status, 201);
      w.users.bob = (await res.json()).id;
    },
    act: (w, ip) =>
      w.t.request("PUT", `/api/v1/users/${w.users.bob}/role`, as(w, "admin", ip, { body: { role: "admin" } })),
    status: 200,
    expect: (w) => ({
      action: "user.role_change",
      actor: admin(w),
      target: "bob",
      outcome: "success",
      details: { user_id: w.users.bob, from: "user", to: "admin" },
    }),
  },
  {
    name: "password reset by an admin",
    act: (w, ip) =>
      w.t.request(
        "POST",
        `/api/v1/users/${w.users.alice}/reset-password`,
        as(w, "admin", ip, { body: { password: `${PASSWORD.alice}-reset` } }),
      ),
    status: 200,
    expect: (w) => ({
      action: "user.password_reset",
      actor: admin(w),
      target: "alice",
      outcome: "success",
      details: { user_id: w.users.alice },
    }),
  },
  {
    name: "own password changed",
    async prepare(w, ip) {
      w.cookies.alice = await signIn(w, "alice", `${PASSWORD.alice}-reset`, ip);
    },
    act: (w, ip) =>
      w.t.request(
        "POST",
        "/api/v1/auth/change-password",
        as(w, "alice", ip, { body: { current_password: `${PASSWORD.alice}-reset`, new_password: PASSWORD.alice } }),
      ),
    status: 200,
    expect: (w) => ({
      action: "auth.password_change",
      actor: { id: w.users.alice, name: "alice" },
      target: "alice",
      outcome: "success",
    }),
  },
  {
    name: "own password change with a wrong current password",
    act: (w, ip) =>
      w.t.request(
        "POST",
        "/api/v1/auth/change-password",
        as(w, "alice", ip, { body: { current_password: "not-my-password", new_password: "whatever-123456" } }),
      ),
    status: 401,
    expect: (w) => ({
      action: "auth.password_change",
      actor: { id: w.users.alice, name: "alice" },
      target: "alice",
      outcome: "failure",
      details: { reason: "wrong password" },
    }),
  },
  {
    name: "user deleted",
    act: (w, ip) => w.t.request("DELETE", `/api/v1/users/${w.users.bob}`, as(w, "admin", ip)),
    status: 204,
    expect: (w) => ({
      action: "user.delete",
      actor: admin(w),
      target: "bob",
      outcome: "success",
      details: { user_id: w.users.bob },
    }),
  },

  // Settings, SSH key, models.
  {
    name: "settings changed",
    act: (w, ip) => w.t.request("PUT", "/api/v1/settings", as(w, "admin", ip, { body: { audit_retention_days: 120 } })),
    status: 200,
    expect: (w) => ({
      action: "settings.update",
      actor: admin(w),
      target: "settings",
      outcome: "success",
      details: { audit_retention_days: { from: 90, to: 120 } },
    }),
  },
  {
    name: "settings saved without a change",
    act: (w, ip) => w.t.request("PUT", "/api/v1/settings", as(w, "admin", ip, { body: { audit_retention_days: 120 } })),
    status: 200,
    expect: { none: "nothing changed (only changes are audited)" },
  },
  {
    name: "SSH key rotated",
    act: (w, ip) => w.t.request("POST", "/api/v1/settings/rotate-ssh-key", as(w, "admin", ip)),
    status: 200,
    expect: (w) => ({
      action: "ssh.key_rotation",
      actor: admin(w),
      target: "ssh-key",
      outcome: "success",
      details: { new_fingerprint: w.t.services.sshKeys.fingerprint(), failed: [] },
    }),
  },
  {
    name: "global models and provider keys changed",
    act: (w, ip) =>
      w.t.request("PUT", "/api/v1/models", as(w, "admin", ip, { body: { keys: { openai: "sk-audit-global-0001" } } })),
    status: 200,
    learn: (w, body) => w.rollout = body.rollout.id,
    settle: rolloutDone,
    expect: (w) => ({
      action: "models.update",
      actor: admin(w),
      target: "global",
      outcome: "success",
      details: { fields: [], keys_changed: ["openai"] },
    }),
  },

  // Instances (paper backend).
  {
    name: "instance created (accepted)",
    act: (w, ip) =>
      w.t.request("POST", "/api/v1/instances", as(w, "admin", ip, { body: { display_name: "Audit Box" } })),
    status: 201,
    learn: (w, body) => w.instance = { id: body.id, name: body.name },
    settle: (w) => until(() => w.paper.waiting().length === 1, 10_000, "the volume creation to start"),
    expect: (w) => ({
      action: "instance.create",
      actor: admin(w),
      target: w.instance.name,
      outcome: "success",
      instanceId: w.instance.id,
      details: { image: w.t.services.settings.get().default_image },
    }),
  },
  {
    name: "instance creation failed in the engine",
    act: (w) => Promise.resolve(w.paper.failNext("paper: no space left on device")),
    settle: (w) => operationEnded(w, w.instance.id),
    expect: (w) => ({
      action: "instance.create",
      actor: admin(w),
      target: w.instance.name,
      outcome: "failure",
      instanceId: w.instance.id,
      ip: w.ipOf["instance created (accepted)"],
      details: { reason: "paper: no space left on device" },
    }),
  },
  {
    name: "instance models and keys overridden",
    act: (w, ip) =>
      w.t.request(
        "PUT",
        `/api/v1/instances/${w.instance.id}/models`,
        as(w, "admin", ip, { body: { keys: { openai: "sk-audit-own-0002" } } }),
      ),
    status: 200,
    learn: (w, body) => w.rollout = body.rollout.id,
    settle: rolloutDone,
    expect: (w) => ({
      action: "models.instance.update",
      actor: admin(w),
      target: w.instance.name,
      outcome: "success",
      instanceId: w.instance.id,
      details: { fields: [], keys_changed: ["openai"] },
    }),
  },
  {
    name: "user's instance assignments changed",
    act: (w, ip) =>
      w.t.request(
        "PUT",
        `/api/v1/users/${w.users.alice}/instances`,
        as(w, "admin", ip, { body: { instance_ids: [w.instance.id] } }),
      ),
    status: 200,
    expect: (w) => ({
      action: "user.assignments_change",
      actor: admin(w),
      target: "alice",
      outcome: "success",
      details: { user_id: w.users.alice, from: [], to: [w.instance.id] },
    }),
  },
  {
    name: "SSH source-IP allow-list changed",
    act: (w, ip) =>
      w.t.request(
        "PUT",
        `/api/v1/instances/${w.instance.id}/allowed-source-ips`,
        as(w, "admin", ip, { body: { allowed_source_ips: ["10.0.0.0/8"] } }),
      ),
    status: 200,
    expect: (w) => ({
      action: "instance.source_ips_change",
      actor: admin(w),
      target: `instance:${w.instance.id}`,
      outcome: "success",
      instanceId: w.instance.id,
      details: { from: [], to: ["10.0.0.0/8"] },
    }),
  },
  {
    name: "instance renamed",
    act: (w, ip) =>
      w.t.request(
        "PUT",
        `/api/v1/instances/${w.instance.id}`,
        as(w, "admin", ip, { body: { display_name: "Audit Box Renamed" } }),
      ),
    status: 200,
    expect: (w) => ({
      action: "instance.update",
      actor: admin(w),
      target: w.instance.name,
      outcome: "success",
      instanceId: w.instance.id,
      details: { display_name: "Audit Box Renamed" },
    }),
  },
  {
    name: "instances reordered",
    act: (w, ip) =>
      w.t.request("PUT", "/api/v1/instances/reorder", as(w, "admin", ip, { body: { instance_ids: [w.instance.id] } })),
    status: 200,
    expect: (w) => ({
      action: "instance.reorder",
      actor: admin(w),
      target: "instances",
      outcome: "success",
      details: { instance_ids: [w.instance.id] },
    }),
  },
  {
    name: "instance cloned (accepted)",
    act: (w, ip) => w.t.request("POST", `/api/v1/instances/${w.instance.id}/clone`, as(w, "admin", ip)),
    status: 201,
    learn: (w, body) => w.clone = { id: body.id, name: body.name },
    settle: (w) => until(() => w.paper.waiting().length === 1, 10_000, "the clone's volume creation to start"),
    expect: (w) => ({
      action: "instance.clone",
      actor: admin(w),
      target: w.clone.name,
      outcome: "success",
      instanceId: w.clone.id,
      details: { source: w.instance.name },
    }),
  },
  {
    name: "clone failed in the engine",
    act: (w) => Promise.resolve(w.paper.failNext("paper: copy failed")),
    settle: (w) => operationEnded(w, w.clone.id),
    expect: (w) => ({
      action: "instance.clone",
      actor: admin(w),
      target: w.clone.name,
      outcome: "failure",
      instanceId: w.clone.id,
      ip: w.ipOf["instance cloned (accepted)"],
      details: { reason: "paper: copy failed" },
    }),
  },
  {
    name: "instance redeployed (accepted)",
    act: (w, ip) =>
      w.t.request("POST", `/api/v1/instances/${w.instance.id}/update-image`, as(w, "admin", ip, { body: {} })),
    status: 202,
    settle: (w) => until(() => w.paper.waiting().length === 1, 10_000, "the redeploy's volume step to start"),
    expect: (w) => ({
      action: "instance.redeploy",
      actor: admin(w),
      target: w.instance.name,
      outcome: "success",
      instanceId: w.instance.id,
    }),
  },
  {
    name: "redeploy failed in the engine",
    act: (w) => Promise.resolve(w.paper.failNext("paper: volume busy")),
    settle: (w) => operationEnded(w, w.instance.id),
    expect: (w) => ({
      action: "instance.redeploy",
      actor: admin(w),
      target: w.instance.name,
      outcome: "failure",
      instanceId: w.instance.id,
      ip: w.ipOf["instance redeployed (accepted)"],
      details: { reason: "paper: volume busy" },
    }),
  },
  {
    name: "instance stopped by an assigned user",
    act: (w, ip) => w.t.request("POST", `/api/v1/instances/${w.instance.id}/stop`, as(w, "alice", ip)),
    status: 200,
    expect: (w) => ({
      action: "instance.stop",
      actor: { id: w.users.alice, name: "alice" },
      target: w.instance.name,
      outcome: "success",
      instanceId: w.instance.id,
    }),
  },
  {
    name: "terminal recording deleted by an admin",
    async prepare(w) {
      const dir = `${w.t.dataPath}/recordings/${w.instance.id}`;
      await Deno.mkdir(dir, { recursive: true });
      const header = { version: 2, width: 80, height: 24, timestamp: 1_700_000_000, env: {} as Record<string, string> };
      header.env = { CLAWORC_USER: "alice", CLAWORC_USER_ID: String(w.users.alice) };
      await Deno.writeTextFile(`${dir}/${w.recordingId}.cast`, `${JSON.stringify(header)}\n[0.5, "o", "hi"]\n`);
    },
    act: (w, ip) =>
      w.t.request(
        "DELETE",
        `/api/v1/instances/${w.instance.id}/terminal/recordings/${w.recordingId}`,
        as(w, "admin", ip),
      ),
    status: 204,
    expect: (w) => ({
      action: "terminal.recording.delete",
      actor: admin(w),
      target: `instance:${w.instance.id}`,
      outcome: "success",
      instanceId: w.instance.id,
      details: { recording_id: w.recordingId, user_id: w.users.alice, user: "alice" },
    }),
  },
  {
    name: "instance deleted",
    act: (w, ip) => w.t.request("DELETE", `/api/v1/instances/${w.clone.id}`, as(w, "admin", ip)),
    status: 204,
    expect: (w) => ({
      action: "instance.delete",
      actor: admin(w),
      target: w.clone.name,
      outcome: "success",
      instanceId: null,
      details: { instance_id: w.clone.id },
    }),
  },

  // Refusals: a signed-in user refused by a route's permission is one `access.denied` entry (the
  // router's hook); anonymous 401s are not audited.
  {
    name: "a user tries an admin action",
    act: (w, ip) => w.t.request("PUT", "/api/v1/settings", as(w, "alice", ip, { body: { audit_retention_days: 1 } })),
    status: 403,
    expect: (w) => ({
      action: "access.denied",
      actor: { id: w.users.alice, name: "alice" },
      target: "PUT /api/v1/settings",
      outcome: "denied",
      details: { permission: "admin", role: "user" },
    }),
  },
  {
    name: "a user tries an instance not assigned to them",
    act: (w, ip) => w.t.request("POST", `/api/v1/instances/${w.clone.id}/stop`, as(w, "alice", ip)),
    status: 403,
    expect: (w) => ({
      action: "access.denied",
      actor: { id: w.users.alice, name: "alice" },
      target: "POST /api/v1/instances/:id/stop",
      outcome: "denied",
      instanceId: w.clone.id,
      details: { permission: "instance" },
    }),
  },
  {
    name: "an anonymous caller tries an admin action",
    act: (w, ip) => w.t.request("PUT", "/api/v1/settings", { ip, body: { audit_retention_days: 1 } }),
    status: 401,
    expect: { none: "anonymous refusals are not audited (noise from scanners)" },
  },
];

Deno.test({
  name: "audit completeness: each security-relevant action records exactly one entry with actor, target, outcome, IP",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const paper = paperBackend();
    const t = await testApp(
      {},
      [...builtinPlugins().filter((p) => p.name !== "docker" && p.name !== "kubernetes"), paper.plugin],
    );
    const w: World = {
      t,
      paper,
      cookies: {},
      users: {},
      instance: { id: 0, name: "" },
      clone: { id: 0, name: "" },
      ipOf: {},
      recordingId: "s1-20240101T000000Z-0badf00d",
      rollout: "",
    };
    const all = () => t.services.audit.query({ limit: 1000, offset: 0 }).entries.reverse();
    const lastId = () => all().at(-1)?.id ?? 0;
    let checked = 0;
    let expectedEntries = 0;
    try {
      assert.equal(all().length, 0, "a new control plane has no audit entries");
      for (const [i, row] of ROWS.entries()) {
        const ip = `192.0.2.${10 + i}`;
        w.ipOf[row.name] = ip;
        await row.prepare?.(w, ip);
        const before = lastId();
        const res = await row.act(w, ip);
        if (res) {
          const text = await res.text();
          assert.equal(res.status, row.status, `${row.name}: ${text}`);
          const json = res.headers.get("content-type")?.includes("json") ? JSON.parse(text) : null;
          row.learn?.(w, json, res);
        } else assert.equal(row.status, undefined, `${row.name}: no request was made`);
        await row.settle?.(w);
        const fresh = all().filter((e) => e.id > before);
        const where = `${row.name}: ${JSON.stringify(fresh)}`;
        if ("none" in row.expect) {
          assert.equal(fresh.length, 0, `${where} (expected none: ${row.expect.none})`);
        } else {
          const want = row.expect(w);
          assert.equal(fresh.length, 1, `${where} (expected exactly one ${want.action})`);
          assertEntry(fresh[0], { ...want, ip: want.ip ?? ip }, where);
          expectedEntries++;
        }
        checked++;
      }

      // Nothing trails in later (an operation's late entry, a rollout's apply).
      const end = lastId();
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(all().filter((e) => e.id > end), [], "no entry after the last action");
      // The API shows the same trail as the store.
      const api = await (await t.request("GET", "/api/v1/audit-logs?limit=1000", { cookie: w.cookies.admin })).json();
      assert.equal(api.total, all().length);
      assert.deepEqual(
        (api.entries as AuditEntry[]).map((e) => [e.id, e.action, e.actor_id, e.ip]),
        all().reverse().map((e) => [e.id, e.action, e.actor_id, e.ip]),
      );
      assert.ok(expectedEntries > 25, `${expectedEntries} rows expect an entry`);
      console.log(
        `audit completeness: ${checked} actions checked (${expectedEntries} with exactly one entry, ` +
          `${checked - expectedEntries} that must record none)`,
      );
    } finally {
      await t.close();
    }
  },
});

function assertEntry(got: AuditEntry, want: Expected, where: string): void {
  assert.equal(got.action, want.action, where);
  assert.equal(got.actor_id, want.actor.id, `${where}: actor id`);
  assert.equal(got.actor, want.actor.name, `${where}: actor name`);
  assert.equal(got.target, want.target, `${where}: target`);
  assert.equal(got.outcome, want.outcome, `${where}: outcome`);
  assert.equal(got.ip, want.ip, `${where}: IP`);
  assert.equal(got.instance_id, want.instanceId ?? null, `${where}: instance`);
  for (const [key, value] of Object.entries(want.details ?? {})) {
    assert.deepEqual(got.details[key], value, `${where}: details.${key}`);
  }
}
