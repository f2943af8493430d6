// Run by permissions_test.ts with a narrow --allow-env: the guard first, then a library that reads
// and enumerates the environment as it is imported (docker-modem's `debug`).
import "../../core/env_guard.ts";
import process from "node:process";

const { default: Docker } = await import("dockerode");
process.env.SET_BY_A_LIBRARY = "kept";
console.log(JSON.stringify({
  docker: typeof Docker,
  allowed: process.env.CLAWORC_PORT ?? null,
  unlisted: process.env.SECRET_OF_THE_HOST ?? null,
  unlistedIn: "SECRET_OF_THE_HOST" in process.env,
  keys: Object.keys(process.env),
  set: process.env.SET_BY_A_LIBRARY,
  denoSees: Deno.env.get("CLAWORC_PORT") ?? null,
}));
