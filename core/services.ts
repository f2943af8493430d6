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
}

/** Builds the services over an open, migrated database. */
export function createServices(
  config: Config,
  db: Database,
  secrets: Secrets,
  log: Logger,
  clock: Clock,
): CoreServices {
  return {
    config,
    log,
    clock,
    db,
    secrets,
    users: new Users(db),
    sessions: new Sessions(db, clock, config.sessionIdleMs, config.sessionMaxMs),
    throttle: new LoginThrottle(clock),
    audit: new AuditLog(db, clock),
    settings: new Settings(db, { audit_retention_days: config.auditRetentionDays }),
    instances: new Instances(db),
  };
}
