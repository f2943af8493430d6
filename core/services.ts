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
import { sshDefaults, type SshOptions } from "./ssh/options.ts";

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
  audit: AuditLog;
  settings: Settings;
  instances: Instances;
  /** The runtime backend registered by a plugin (or none). */
  runtime: RuntimeRef;
  sshKeys: SshKeyStore;
  sshEvents: SshEvents;
  hostKeys: HostKeyPins;
  ssh: SshPool;
  keyRotation: KeyRotation;
  lifecycle: InstanceLifecycle;
}

/** What `createServices` needs besides configuration and storage. */
export interface ServiceParts {
  secrets: Secrets;
  sshKeys: SshKeyStore;
  log: Logger;
  clock: Clock;
  ssh?: Partial<SshOptions>;
}

/** Builds the services over an open, migrated database. */
export function createServices(config: Config, db: Database, parts: ServiceParts): CoreServices {
  const { secrets, sshKeys, log, clock } = parts;
  const audit = new AuditLog(db, clock);
  const instances = new Instances(db);
  const runtime = new RuntimeRef();
  const sshEvents = new SshEvents(db, clock);
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
  return {
    config,
    log,
    clock,
    db,
    secrets,
    users: new Users(db),
    sessions: new Sessions(db, clock, config.sessionIdleMs, config.sessionMaxMs),
    throttle: new LoginThrottle(clock),
    audit,
    settings: new Settings(db, { audit_retention_days: config.auditRetentionDays, ssh_key_rotation_days: 90 }),
    instances,
    runtime,
    sshKeys,
    sshEvents,
    hostKeys,
    ssh,
    keyRotation: new KeyRotation({ db, pool: ssh, keys: sshKeys, instances, events: sshEvents, audit }),
    lifecycle: new InstanceLifecycle({
      instances,
      runtime,
      ssh,
      pins: hostKeys,
      keys: sshKeys,
      secrets,
      audit,
      log: log.child("instances"),
      defaults: { image: config.agentImage, cpu_limit: "2", memory_limit: "4Gi" },
    }),
  };
}
