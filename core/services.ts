import type { Clock } from "./clock.ts";
import type { Config } from "./config.ts";
import type { Database } from "./db/database.ts";
import type { Logger } from "./log.ts";
import { AuditLog } from "./audit/audit_log.ts";
import { LoginThrottle } from "./auth/login_throttle.ts";
import { Sessions } from "./auth/sessions.ts";
import { Instances } from "./instances/instances.ts";
import type { Secrets } from "./secrets/secrets.ts";
import { Settings } from "./settings/settings.ts";
import { Users } from "./users/users.ts";
import { RuntimeRef } from "./plugins/runtime_ref.ts";
import { SshPool } from "./ssh/pool.ts";
import type { SshKeyStore } from "./ssh/key_store.ts";
import { SshEvents } from "./ssh/events.ts";
import { HostKeyPins } from "./ssh/host_keys.ts";
import { ConnectRateLimiter } from "./ssh/rate_limiter.ts";
import { KeyRotation } from "./ssh/key_rotation.ts";
import { InstanceLifecycle } from "./instances/lifecycle.ts";
import { EventBus } from "./events/bus.ts";
import type { LiveBus } from "./instances/live_events.ts";
import { Operations } from "./instances/operations.ts";
import type { RequestCounts } from "./http/request_metrics.ts";
import { sshDefaults, type SshOptions } from "./ssh/options.ts";
import { AgentConfig, agentConfigDefaults, type AgentConfigOptions } from "./openclaw/agent_config.ts";
import { ModelStore } from "./models/model_store.ts";
import { ModelSync } from "./models/model_sync.ts";
import { Passkeys } from "./auth/passkeys/passkeys.ts";
import { PasskeyStore } from "./auth/passkeys/passkey_store.ts";
import { Challenges } from "./auth/passkeys/challenges.ts";
import { AccountRecovery } from "./auth/passkeys/recovery.ts";
import { EventLoopLag } from "./event_loop_lag.ts";

/** The shared services core builds once and hands to routes and (as declared) to plugins. */
export interface CoreServices {
  config: Config;
  log: Logger;
  clock: Clock;
  db: Database;
  secrets: Secrets;
  users: Users;
  sessions: Sessions;
  throttle: LoginThrottle;
  /** Passkey (WebAuthn) registration and sign-in. */
  passkeys: Passkeys;
  /** One-time password sign-ins granted by the operator to accounts that lost their passkeys. */
  recovery: AccountRecovery;
  audit: AuditLog;
  settings: Settings;
  instances: Instances;
  /** Instance and operation changes, pushed to dashboards over SSE. */
  live: LiveBus;
  operations: Operations;
  /** The runtime backend registered by a plugin (or none). */
  runtime: RuntimeRef;
  sshKeys: SshKeyStore;
  sshEvents: SshEvents;
  hostKeys: HostKeyPins;
  ssh: SshPool;
  keyRotation: KeyRotation;
  lifecycle: InstanceLifecycle;
  /** Answered HTTP requests by method and status class (for GET /metrics). */
  requestCounts: RequestCounts;
  /** SSH events by type since start (for GET /metrics). */
  sshEventCounts: Map<string, number>;
  /** Event-loop lag over the last minute (started with the server, for GET /metrics). */
  loopLag: EventLoopLag;
  /** Aborted when the server begins to stop: long-lived streams end themselves so shutdown does not wait on them. */
  shutdown: AbortController;
  /** OpenClaw's configuration inside instances: read, validate, apply with rollback. */
  agentConfig: AgentConfig;
  /** The model choice and provider keys (global and per instance). */
  models: ModelStore;
  /** Pushes the model choice and keys into instances. */
  modelSync: ModelSync;
}

/** What `createServices` needs besides configuration and storage. */
export interface ServiceParts {
  secrets: Secrets;
  sshKeys: SshKeyStore;
  log: Logger;
  clock: Clock;
  ssh?: Partial<SshOptions>;
  agentConfig?: Partial<AgentConfigOptions>;
}

/** Builds the services over an open, migrated database. */
export function createServices(config: Config, db: Database, parts: ServiceParts): CoreServices {
  const { secrets, sshKeys, log, clock } = parts;
  const audit = new AuditLog(db, clock);
  const live: LiveBus = new EventBus();
  const instances = new Instances(db, live);
  const settings = new Settings(db, {
    audit_retention_days: config.auditRetentionDays,
    ssh_key_rotation_days: 90,
    default_image: config.agentImage,
    default_cpu_limit: "2",
    default_memory_limit: "4Gi",
    default_vnc_resolution: "1280x800",
    terminal_recording: false,
    terminal_recording_retention_days: 30,
    config_editor_access: "admin",
    password_sign_in: "allowed",
    admin_passkey_required: false,
  });
  const operations = new Operations(live, clock);
  const runtime = new RuntimeRef();
  const sshEvents = new SshEvents(db, clock);
  const sshEventCounts = new Map<string, number>();
  sshEvents.subscribe((e) => {
    sshEventCounts.set(e.type, (sshEventCounts.get(e.type) ?? 0) + 1);
    live.publish({ type: "ssh", instance_id: e.instance_id, event: e.type, state: e.to_state });
  });
  const hostKeys = new HostKeyPins(db);
  const ssh = new SshPool({
    clock,
    keys: sshKeys,
    pins: hostKeys,
    events: sshEvents,
    limiter: new ConnectRateLimiter(clock),
    audit,
    log: log.child("ssh"),
    options: { ...sshDefaults, ...parts.ssh },
    endpoint: (id) => runtime.require().sshEndpoint(instances.get(id).name),
    sourceIps: (id) => instances.sourceIps(id),
  });
  const agentConfig = new AgentConfig(ssh, { ...agentConfigDefaults, ...parts.agentConfig });
  const models = new ModelStore(db, secrets);
  const modelSync = new ModelSync({ db, store: models, agentConfig, instances, audit, log: log.child("models") });
  const lifecycle = new InstanceLifecycle({
    instances,
    runtime,
    ssh,
    pins: hostKeys,
    keys: sshKeys,
    secrets,
    audit,
    operations,
    settings,
    models: modelSync,
    log: log.child("instances"),
  });
  modelSync.watch(sshEvents, (id) => lifecycle.busy(id) !== undefined);
  const keyRotation = new KeyRotation({ db, pool: ssh, keys: sshKeys, instances, events: sshEvents, audit });
  keyRotation.watch((id, e) =>
    log.warn("could not update the instance's authorized key line", { instance: id, error: e.message })
  );
  const users = new Users(db);
  return {
    config,
    log,
    clock,
    db,
    secrets,
    agentConfig,
    models,
    modelSync,
    users,
    passkeys: new Passkeys(new PasskeyStore(db), new Challenges(db, clock), users, clock),
    recovery: new AccountRecovery(db, clock),
    sessions: new Sessions(db, clock, config.sessionIdleMs, config.sessionMaxMs),
    throttle: new LoginThrottle(clock),
    audit,
    settings,
    instances,
    live,
    operations,
    runtime,
    sshKeys,
    sshEvents,
    hostKeys,
    ssh,
    keyRotation,
    requestCounts: new Map(),
    sshEventCounts,
    loopLag: new EventLoopLag(),
    shutdown: new AbortController(),
    lifecycle,
  };
}
