import { Buffer } from "node:buffer";

/**
 * The text of a non-TTY container log. Docker's API frames each write with an 8-byte header (stream
 * id 0–2, three zero bytes, big-endian length); those frames are joined without their headers. Bytes
 * that are not framed (a container with a TTY) come back as they are.
 */
export function demuxLog(raw: Uint8Array): string {
  const buf = Buffer.from(raw);
  const parts: Buffer[] = [];
  let at = 0;
  while (at + 8 <= buf.length) {
    if (buf[at] > 2 || buf[at + 1] !== 0 || buf[at + 2] !== 0 || buf[at + 3] !== 0) return buf.toString("utf8");
    const size = buf.readUInt32BE(at + 4);
    parts.push(buf.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  if (at < buf.length && parts.length === 0) return buf.toString("utf8");
  return Buffer.concat(parts).toString("utf8");
}
