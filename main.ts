/** Claworc's entry point: `deno task start` (serve) or operator subcommands, see `cli.ts`. */
// First: libraries must see a `process.env` they can read under the narrow --allow-env.
import "./core/env_guard.ts";
import { runCli } from "./cli.ts";

if (import.meta.main) Deno.exit(await runCli(Deno.args));
