import type { Plugin } from "../core/mod.ts";
import { auditPlugin } from "./audit/mod.tsx";
import { chatPlugin } from "./chat/mod.tsx";
import { configPlugin } from "./config/mod.tsx";
import { desktopPlugin } from "./desktop/mod.tsx";
import { dockerPlugin } from "./docker/mod.ts";
import { filesPlugin } from "./files/mod.tsx";
import { healthPlugin } from "./health/mod.tsx";
import { kubernetesPlugin } from "./kubernetes/mod.ts";
import { logsPlugin } from "./logs/mod.tsx";
import { modelsPlugin } from "./models/mod.tsx";
import { terminalPlugin } from "./terminal/mod.tsx";

/** The built-in plugins, in load order. Add a plugin here to ship it. */
export function builtinPlugins(): Plugin[] {
  return [
    auditPlugin(),
    dockerPlugin(),
    kubernetesPlugin(),
    chatPlugin(),
    healthPlugin(),
    terminalPlugin(),
    filesPlugin(),
    logsPlugin(),
    desktopPlugin(),
    modelsPlugin(),
    configPlugin(),
  ];
}
