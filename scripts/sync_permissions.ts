/**
 * Writes the `--allow-env=` list from core/permissions.ts into every place that runs the program:
 * the tasks of deno.json, the image's CMD (deploy/Dockerfile) and the Compose command. Run it after
 * adding a configuration variable (tests/deploy/permissions_test.ts fails until then); the task
 * `sync-permissions` then regenerates the Kubernetes manifests.
 */
import { ENV_READ } from "../core/permissions.ts";

const FILES = ["../deno.json", "../deploy/Dockerfile", "../deploy/docker-compose.yml"];
/** `--allow-env` with a list or bare, as a word of a command line (not `--allow-env` inside a longer flag). */
const FLAG = /--allow-env(=[A-Z0-9_,]*)?(?=[\s",\]]|$)/gm;

for (const path of FILES) {
  const file = new URL(path, import.meta.url);
  const before = await Deno.readTextFile(file);
  const after = before.replace(FLAG, `--allow-env=${ENV_READ.join(",")}`);
  if (after !== before) await Deno.writeTextFile(file, after);
  console.log(`${path.slice(3)}: ${after === before ? "up to date" : "updated"}`);
}
