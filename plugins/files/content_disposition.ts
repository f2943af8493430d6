/**
 * `Content-Disposition: attachment` for any file name (RFC 6266): an ASCII `filename` fallback with
 * quotes, backslashes, control and non-ASCII characters replaced by `_`, and the exact name in
 * `filename*` as percent-encoded UTF-8 (RFC 8187), which every current browser prefers.
 */
export function attachment(name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\%]/g, "_") || "download";
  const exact = encodeURIComponent(name).replace(/['()*]/g, (ch) => "%" + ch.charCodeAt(0).toString(16).toUpperCase());
  return `attachment; filename="${fallback}"; filename*=UTF-8''${exact}`;
}
