/**
 * Whether tests that need Podman run. Without Podman they are skipped outside CI only: under
 * CI=true they run (and fail), so a missing component is never a silent skip. Its own module, as
 * the check runs a process when imported; only tests that need Podman import it.
 */
const installed = await new Deno.Command("podman", { args: ["--version"], stdout: "null", stderr: "null" }).output()
  .then((o) => o.success, () => false);

/** `ignore` for a Deno.test that needs Podman. */
export const WITHOUT_PODMAN = !installed && Deno.env.get("CI") !== "true";

/** Options of a test driving Podman's service: skipped as above; the service outlives the test's ops. */
export const podmanTest = { ignore: WITHOUT_PODMAN, sanitizeOps: false, sanitizeResources: false } as const;
