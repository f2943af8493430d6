/**
 * deploy/docker-compose.yml's `claworc` service, read the way Compose reads it (variables
 * interpolated) and turned into the engine API's create options, so a test runs what the file says.
 */
// @ts-types="npm:@types/dockerode@4.0.2"
import type Docker from "dockerode";
import { loadYaml } from "@kubernetes/client-node";

export const COMPOSE_FILE = new URL("../../deploy/docker-compose.yml", import.meta.url);

export interface ComposeService {
  image: string;
  container_name: string;
  user: string;
  group_add: string[];
  command: string[];
  env_file: string;
  environment: Record<string, string>;
  volumes: string[];
  ports: string[];
  read_only: boolean;
  tmpfs: string[];
  cap_drop: string[];
  sysctls: Record<string, string | number>;
  security_opt: string[];
  healthcheck: { test: string[]; interval: string; timeout: string; start_period: string; retries: number };
  restart: string;
  stop_grace_period: string;
}

/** The service as written (no interpolation), and the file's named volumes. */
export async function readComposeFile(): Promise<{ service: ComposeService; volumes: string[] }> {
  const doc = loadYaml<{ services: Record<string, ComposeService>; volumes: Record<string, unknown> }>(
    await Deno.readTextFile(COMPOSE_FILE),
  );
  return { service: doc.services.claworc, volumes: Object.keys(doc.volumes ?? {}) };
}

/** Compose's `${NAME}`, `${NAME:-default}` and `${NAME:?error}`; a required variable left unset throws. */
export function interpolate(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_, name: string, op?: string, arg?: string) => {
    const value = vars[name];
    if (value) return value;
    if (op === "?") throw new Error(`${name}: ${arg}`);
    return op === "-" ? arg ?? "" : "";
  });
}

/** "30s", "1m30s" → nanoseconds (the engine API's unit). */
function nanoseconds(duration: string): number {
  let total = 0;
  for (const [, n, unit] of duration.matchAll(/(\d+)(ms|s|m|h)/g)) {
    total += Number(n) * { ms: 1e-3, s: 1, m: 60, h: 3600 }[unit as "ms" | "s" | "m" | "h"]!;
  }
  return total * 1e9;
}

/**
 * The create options of the service: `vars` stand for the shell's variables, `env` for the env_file,
 * `volumeNames` renames the file's named volumes (Compose prefixes them with the project name).
 */
export function createOptions(
  s: ComposeService,
  vars: Record<string, string>,
  env: Record<string, string>,
  volumeNames: Record<string, string>,
): Docker.ContainerCreateOptions {
  const i = (t: string) => interpolate(t, vars);
  const environment = { ...env, ...Object.fromEntries(Object.entries(s.environment).map(([k, v]) => [k, i(v)])) };
  const binds = s.volumes.map(i).map((v) => {
    const [source, ...rest] = v.split(":");
    return [volumeNames[source] ?? source, ...rest].join(":");
  });
  return {
    name: s.container_name,
    Image: i(s.image),
    User: s.user,
    Cmd: s.command,
    Env: Object.entries(environment).map(([k, v]) => `${k}=${v}`),
    Healthcheck: {
      Test: s.healthcheck.test,
      Interval: nanoseconds(s.healthcheck.interval),
      Timeout: nanoseconds(s.healthcheck.timeout),
      StartPeriod: nanoseconds(s.healthcheck.start_period),
      Retries: s.healthcheck.retries,
    },
    StopTimeout: nanoseconds(s.stop_grace_period) / 1e9,
    HostConfig: {
      GroupAdd: s.group_add.map(i),
      Binds: binds,
      ReadonlyRootfs: s.read_only,
      Tmpfs: Object.fromEntries(s.tmpfs.map((p) => [p, ""])),
      CapDrop: s.cap_drop,
      Sysctls: Object.fromEntries(Object.entries(s.sysctls).map(([k, v]) => [k, String(v)])),
      SecurityOpt: s.security_opt,
      RestartPolicy: { Name: s.restart },
    },
  };
}
