import { AppError } from "../../core/mod.ts";
import { BytePattern } from "./byte_search.ts";

/** One part of a multipart/form-data body; `body` must be read to its end before asking for the next part. */
export interface Part {
  /** The form field name. */
  name: string;
  /** The file name the browser sent, or null for a plain field. */
  filename: string | null;
  body: AsyncGenerator<Uint8Array>;
}

const enc = new TextEncoder();
const CRLFCRLF = new BytePattern(enc.encode("\r\n\r\n"));
const MAX_HEADER_BYTES = 16 * 1024;

/** The boundary of a `multipart/form-data` content type, or null. */
export function boundaryOf(contentType: string | null | undefined): string | null {
  if (!contentType || !/^multipart\/form-data\s*;/i.test(contentType)) return null;
  const m = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType);
  return m ? (m[1] ?? m[2]) : null;
}

/** Length of the longest end of `hay` that is the start of `needle` (shorter than all of it): what may continue in the next chunk. */
function partialMatchAtEnd(hay: Uint8Array, needle: Uint8Array): number {
  for (let k = Math.min(needle.length - 1, hay.length); k > 0; k--) {
    const at = hay.length - k;
    if (hay[at] !== needle[0]) continue;
    let j = 1;
    while (j < k && hay[at + j] === needle[j]) j++;
    if (j === k) return k;
  }
  return 0;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * `name` and `filename` from a part's Content-Disposition (quoted, unquoted or RFC 8187 `filename*`).
 * A quoted value runs to the next `"`: browsers never escape with backslashes (a `\` in a file name
 * is sent as is), so a backslash is part of the name.
 */
function disposition(headers: string): { name: string; filename: string | null } {
  const line = headers.split("\r\n").find((l) => /^content-disposition\s*:/i.test(l)) ?? "";
  const param = (key: string) => {
    const m = new RegExp(`;\\s*${key}=(?:"([^"]*)"|([^;\\s]*))`, "i").exec(line);
    return m ? (m[1] ?? m[2]) : null;
  };
  const star = param("filename\\*");
  let filename = param("filename");
  if (star) {
    const m = /^utf-8''(.*)$/i.exec(star);
    if (m) filename = percentDecoded(m[1]);
  } else if (filename !== null) {
    // Browsers escape these three as the HTML standard says; everything else arrives as raw UTF-8.
    filename = filename.replace(/%22/g, '"').replace(/%0D/gi, "\r").replace(/%0A/gi, "\n");
  }
  return { name: param("name") ?? "", filename };
}

/** An RFC 8187 value as text; a 400 when it is not percent-encoded UTF-8. */
function percentDecoded(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw malformed("the file name in filename* is not percent-encoded UTF-8");
  }
}

function malformed(why: string): AppError {
  return new AppError("VALIDATION_FAILED", `Invalid multipart body: ${why}.`);
}

/**
 * Parses a multipart/form-data stream part by part without buffering a part's content: only the
 * bytes that might be the start of the next boundary are held back. Pulls from `stream` only as the
 * consumer reads, so a slow writer slows the upload.
 */
export async function* multipartParts(stream: ReadableStream<Uint8Array>, boundary: string): AsyncGenerator<Part> {
  const reader = stream.getReader();
  const delimiter = new BytePattern(enc.encode(`\r\n--${boundary}`));
  // A CRLF in front lets the first boundary (which has none) match like every other.
  let buf: Uint8Array = enc.encode("\r\n");
  let done = false;
  const more = async (): Promise<boolean> => {
    if (done) return false;
    const r = await reader.read();
    if (r.done) return !(done = true);
    buf = concat(buf, r.value);
    return true;
  };
  try {
    for (let i = delimiter.indexIn(buf); i < 0; i = delimiter.indexIn(buf)) {
      buf = buf.subarray(Math.max(0, buf.length - delimiter.bytes.length + 1));
      if (!await more()) throw malformed("no boundary found");
    }
    buf = buf.subarray(delimiter.indexIn(buf) + delimiter.bytes.length);
    for (;;) {
      while (buf.length < 2) if (!await more()) throw malformed("it ends after a boundary");
      if (buf[0] === 0x2d && buf[1] === 0x2d) return; // the closing "--boundary--"
      let end: number;
      while ((end = CRLFCRLF.indexIn(buf)) < 0) {
        if (buf.length > MAX_HEADER_BYTES) throw malformed("part headers are too long");
        if (!await more()) throw malformed("it ends inside part headers");
      }
      const headers = new TextDecoder().decode(buf.subarray(0, end));
      buf = buf.subarray(end + 4);
      let finished = false;
      // Content is yielded as views, not copies: no buffer here is written after it is made.
      // Only an end that may be the start of a boundary is held back, which is usually nothing,
      // so the next chunk is taken as it is instead of being copied behind a remainder.
      const body = async function* (): AsyncGenerator<Uint8Array> {
        for (;;) {
          const at = delimiter.indexIn(buf);
          if (at >= 0) {
            if (at > 0) yield buf.subarray(0, at);
            buf = buf.subarray(at + delimiter.bytes.length);
            finished = true;
            return;
          }
          const keep = partialMatchAtEnd(buf, delimiter.bytes);
          if (buf.length > keep) {
            yield buf.subarray(0, buf.length - keep);
            buf = buf.subarray(buf.length - keep);
          }
          if (!await more()) throw malformed("it ends before the closing boundary");
        }
      };
      const part = body();
      yield { ...disposition(headers), body: part };
      if (!finished) { for await (const _ of part) { /* skip what the consumer left unread */ } }
    }
  } finally {
    reader.releaseLock();
  }
}
