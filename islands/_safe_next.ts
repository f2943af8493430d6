const BASE = "http://claworc.invalid";

/**
 * Where to go after signing in: a path on this site, never another origin. The candidate is parsed
 * the way a browser would (which drops tabs and newlines, so `/\t/evil` means `//evil`) and accepted
 * only if it stays on the same origin; control characters are refused outright.
 */
export function safeNext(next: string | undefined): string {
  // deno-lint-ignore no-control-regex
  if (!next || !next.startsWith("/") || /[\u0000-\u001f\u007f\\]/.test(next)) return "/";
  try {
    const url = new URL(next, BASE);
    return url.origin === BASE ? url.pathname + url.search + url.hash : "/";
  } catch {
    return "/";
  }
}
