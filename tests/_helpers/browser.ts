import { type Browser, chromium } from "playwright-core";

/** Debian's Chromium (installed by `deno task test`); tests skip only outside CI when it is missing. */
export const CHROMIUM = Deno.env.get("CLAWORC_TEST_BROWSER") || "/usr/bin/chromium";
export const BROWSER_AVAILABLE = await Deno.stat(CHROMIUM).then(() => true, () => false);
/** Ignore browser tests when Chromium is missing, except under CI=true, where that is a failure. */
export const SKIP_BROWSER = !BROWSER_AVAILABLE && Deno.env.get("CI") !== "true";
export const SHOTS = "test-results/screenshots";

/** Headless Chromium with the flags this machine needs (no sandbox as root, no background network). */
export async function launchBrowser(): Promise<Browser> {
  await Deno.mkdir(SHOTS, { recursive: true });
  return await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-quic",
    ],
  });
}
