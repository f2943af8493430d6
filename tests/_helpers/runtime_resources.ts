/**
 * How many entries Deno's resource table holds: open sockets, files, and the native state of
 * node:crypto ciphers until they are finalized. Garbage collection never empties it, so a count
 * that keeps growing with traffic is a leak. Read through Deno's internal namespace (there is no
 * public API for it since Deno 2); a Deno without it fails the test instead of skipping the check.
 */
export function runtimeResourceCount(): number {
  // deno-lint-ignore no-explicit-any
  const internal = (Deno as any)[(Deno as any).internal];
  const resources = internal?.core?.resources;
  if (typeof resources !== "function") throw new Error("This Deno does not expose its resource table.");
  return Object.keys(resources()).length;
}
