/**
 * Lets Node libraries run under a narrow `--allow-env=NAME,...`.
 *
 * Deno throws when code reads an environment variable it was not allowed, and npm libraries read
 * variables they merely might use: docker-modem's `debug` dependency even enumerates the whole
 * environment when it is imported. Under a narrow grant this module gives Node's `process.env` the
 * meaning it has on a machine where those variables are unset: a variable outside the grant reads as
 * undefined, enumerating lists nothing, and a library's own assignment stays in this process's view
 * (Deno's environment is not touched). With the full grant (`deno test -A`) nothing changes.
 *
 * Imported first by main.ts, so it runs before any library is evaluated.
 */
import process from "node:process";

function granted(variable: string): boolean {
  return Deno.permissions.querySync({ name: "env", variable }).state === "granted";
}

/** Node's `process.env` for a process allowed to read only some variables. */
export function narrowEnv(): Record<string, string | undefined> {
  const own = new Map<string, string | undefined>();
  const read = (name: string) => own.has(name) ? own.get(name) : granted(name) ? Deno.env.get(name) : undefined;
  return new Proxy({} as Record<string, string | undefined>, {
    get: (_t, name) => typeof name === "string" ? read(name) : undefined,
    has: (_t, name) => typeof name === "string" && read(name) !== undefined,
    set: (_t, name, value) => {
      if (typeof name === "string") own.set(name, value === undefined ? undefined : String(value));
      return true;
    },
    deleteProperty: (_t, name) => {
      if (typeof name === "string") own.set(name, undefined);
      return true;
    },
    ownKeys: () => [...own.keys()].filter((name) => own.get(name) !== undefined),
    getOwnPropertyDescriptor: (_t, name) => {
      const value = typeof name === "string" ? read(name) : undefined;
      return value === undefined ? undefined : { value, writable: true, enumerable: true, configurable: true };
    },
  });
}

if (Deno.permissions.querySync({ name: "env" }).state !== "granted") {
  Object.defineProperty(process, "env", { value: narrowEnv(), writable: true, configurable: true, enumerable: true });
}
