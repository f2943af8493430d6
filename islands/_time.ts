/** `2026-01-31T12:00:05.123Z` → `2026-01-31 12:00:05 UTC`: no locale or time zone, so server and browser agree. */
export function utcTime(iso: string): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const s = new Date(t).toISOString();
  return `${s.slice(0, 10)} ${s.slice(11, 19)} UTC`;
}
