/**
 * The parts of openclaw.json Claworc's models feature owns: it writes them whenever the model choice
 * or the keys change (or an instance that missed a change connects), replacing what an editor put there.
 */
export const MANAGED_PATHS: readonly { path: string; what: string }[] = [
  { path: "models.providers.<id>", what: "each provider that has a key or is a custom provider in Models" },
  { path: "agents.defaults.model", what: "the default model and its fallbacks" },
  { path: "secrets.providers.claworc", what: "the SecretRef provider reading Claworc's keys file" },
  { path: "plugins.entries.brave.config.webSearch.apiKey", what: "the Brave search key" },
];

/** The concrete paths for one instance, from what the models feature currently writes there (`owned`). */
export function managedPaths(owned: readonly string[]): string[] {
  const paths: string[] = [];
  for (const item of owned) {
    if (item.startsWith("provider:")) paths.push(`models.providers.${item.slice("provider:".length)}`);
    else if (item === "model") paths.push("agents.defaults.model");
    else if (item === "secrets") paths.push("secrets.providers.claworc");
    else if (item === "search") paths.push("plugins.entries.brave.config.webSearch.apiKey");
  }
  return paths;
}
