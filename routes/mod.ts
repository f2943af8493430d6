import type { Router } from "../core/http/router.ts";
import type { PluginHost } from "../core/plugins/host.ts";
import type { CoreServices } from "../core/services.ts";
import { authRoutes } from "./api/auth.ts";
import { passkeyRoutes } from "./api/passkeys.ts";
import { instanceRoutes } from "./api/instances.ts";
import { eventRoutes } from "./api/events.ts";
import { metricsRoutes } from "./api/metrics.ts";
import { settingsRoutes } from "./api/settings.ts";
import { sshRoutes } from "./api/ssh.ts";
import { systemRoutes } from "./api/system.ts";
import { userRoutes } from "./api/users.ts";
import { errorPage, pageRoutes } from "./pages/mod.tsx";
import { staticRoutes } from "./static.ts";

/** Registers every core route (API, pages, assets) on the root router. */
export function coreRoutes(root: Router, s: CoreServices, host: PluginHost): void {
  const api = root.scope("/api/v1");
  authRoutes(api, s);
  passkeyRoutes(api, s);
  userRoutes(api, s);
  instanceRoutes(api, s);
  eventRoutes(api, s);
  settingsRoutes(api, s);
  sshRoutes(api, s);
  systemRoutes(root, s, host);
  metricsRoutes(root, s, host);
  staticRoutes(root);
  pageRoutes(root, s, host);
}

export { errorPage };
