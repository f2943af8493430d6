import type { Config } from "./config.ts";
import { type AppParts, type ClaworcApp, createApp } from "./app.ts";
import type { Logger } from "./log.ts";
import { openServices } from "./boot.ts";
import type { SshOptions } from "./ssh/options.ts";

/** A running control plane. */
export interface RunningServer extends ClaworcApp {
  url: string;
  /** Stops listening, closes plugins and the database. */
  close(): Promise<void>;
}

const HOUR = 3_600_000;
/** How long a stop waits for in-flight requests before closing anyway. */
const SHUTDOWN_GRACE_MS = 5_000;

/** Opens storage, assembles the app, listens, then runs plugins' `ready`. Nothing is left half-started on failure. */
export async function startServer(
  config: Config,
  parts: AppParts,
  /** A logger, and SSH timings (tests and the scale bench shorten the health periods). */
  options: { log?: Logger; ssh?: Partial<SshOptions> } = {},
): Promise<RunningServer> {
  const services = await openServices(config, options);
  const { log, db, sessions } = services;
  let built: ClaworcApp;
  try {
    built = await createApp(services, parts);
  } catch (e) {
    db.close();
    throw e;
  }
  const { app, host } = built;
  let resolveListening: (addr: Deno.NetAddr) => void;
  const listening = new Promise<Deno.NetAddr>((r) => resolveListening = r);
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: config.host,
      port: config.port,
      onListen: (addr) => resolveListening(addr),
    }, (req, info) => app.fetch(req, info));
  } catch (e) {
    await host.close();
    db.close();
    if (e instanceof Deno.errors.AddrInUse) {
      throw new Error(`Cannot listen on ${config.host}:${config.port}: the port is in use (set CLAWORC_PORT).`);
    }
    throw e;
  }
  const addr = await listening;
  const url = `http://${addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname}:${addr.port}`;
  const hourly = () => {
    sessions.purgeExpired();
    const days = services.settings.get().ssh_key_rotation_days;
    services.keyRotation.rotateIfDue(days, services.clock.now(), { id: null, name: "system" })
      .then((r) =>
        r && log.info("automatic SSH key rotation", { full_success: r.full_success, fingerprint: r.new_fingerprint })
      )
      .catch((e) => log.error("automatic SSH key rotation failed", { error: String(e) }));
  };
  hourly();
  const purge = setInterval(hourly, HOUR);
  services.ssh.startHealth();
  services.loopLag.start();
  // Instances that were running when the control plane stopped are reconnected right away.
  for (const id of services.instances.idsWithStatus("running")) services.ssh.start(id);
  await host.ready();
  // Then the engine's truth: reconcile rows with containers (resuming interrupted creations) and follow events.
  const attached = services.lifecycle.attach();
  log.info("claworc listening", { url, plugins: host.names(), backend: services.runtime.backend?.name ?? "none" });
  let closed = false;
  return {
    ...built,
    url,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(purge);
      services.loopLag.stop();
      await attached;
      services.lifecycle.detach();
      // Event streams end themselves on this; anything else still open gets a few seconds to finish.
      services.shutdown.abort();
      let grace: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([server.shutdown(), new Promise((r) => grace = setTimeout(r, SHUTDOWN_GRACE_MS))]);
      clearTimeout(grace);
      services.ssh.close();
      await host.close();
      db.close();
    },
  };
}
