/** Claworc's entry point: `deno task start` (serve) or operator subcommands, see `cli.ts`. */
import { runCli } from "./cli.ts";

if (import.meta.main) Deno.exit(await runCli(Deno.args));
