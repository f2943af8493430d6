import { z } from "zod";
import { AppError, numericParam, type Router } from "../../core/mod.ts";
import { writeAtomic } from "./atomic_write.ts";
import { recordFileOp } from "./audit_op.ts";
import type { FilesDeps } from "./deps.ts";
import { boundaryOf, multipartParts, type Part } from "./multipart.ts";
import { checkName, joinPath } from "./paths.ts";
import { type RemoteFs, sftpError } from "./remote_fs.ts";
import type { Confiner } from "./confine.ts";
import { withSession } from "./session.ts";

/** Query of `POST .../files/upload`: the destination folder (and the name for a raw, non-multipart body). */
export const uploadQuery = z.object({
  path: z.string().max(16_384),
  name: z.string().max(1024).optional(),
});

/** What one uploaded file became. */
export interface Uploaded {
  path: string;
  filename: string;
  size: number;
}

/** Counts bytes through the stream and fails it (413) past `max`, whatever Content-Length claimed. */
function capped(body: ReadableStream<Uint8Array>, max: number): ReadableStream<Uint8Array> {
  let seen = 0;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.length;
        if (seen > max) throw new AppError("PAYLOAD_TOO_LARGE", `The upload is larger than ${max} bytes.`);
        controller.enqueue(chunk);
      },
    }),
  );
}

/** The files in the body: every multipart part with a file name, or the whole raw body named by `?name=`. */
async function* filesOf(
  req: Request,
  body: ReadableStream<Uint8Array>,
  name: string | undefined,
): AsyncGenerator<{ filename: string; body: AsyncIterable<Uint8Array> }> {
  const boundary = boundaryOf(req.headers.get("content-type"));
  if (!boundary) {
    if (!name) {
      throw new AppError(
        "VALIDATION_FAILED",
        "Send multipart/form-data with file parts, or ?name= with the raw bytes.",
      );
    }
    yield { filename: name, body };
    return;
  }
  for await (const part of multipartParts(body, boundary) as AsyncGenerator<Part>) {
    if (part.filename === null) continue; // a plain form field: skipped unread
    yield { filename: part.filename, body: part.body };
  }
}

async function store(
  fs: RemoteFs,
  confiner: Confiner,
  dir: string,
  file: { filename: string; body: AsyncIterable<Uint8Array> },
  deps: FilesDeps,
  budget: number,
): Promise<Uploaded> {
  const filename = checkName(file.filename);
  const entry = await confiner.entry(joinPath(dir, filename));
  const st = await fs.lstatOrNull(entry.path);
  const where = st?.isSymbolicLink() ? await confiner.existing(entry.requested) : entry;
  const size = await writeAtomic(fs, where.path, file.body, {
    chunk: deps.opts.chunkBytes,
    inflight: deps.opts.inflight,
    maxBytes: budget,
  });
  return { path: entry.requested, filename, size };
}

/**
 * `POST .../files/upload?path=<folder>`: streams one or more files (multipart field `file`, or a raw
 * body with `?name=`) straight into SFTP writes; each lands atomically (temp file + rename), so a
 * broken upload leaves no partial file. Memory stays bounded by the SFTP pipelining, not the size.
 * Each stored file is audited with its path and size; a failure once, with the file it stopped at.
 */
export function addUploadRoute(r: Router, deps: FilesDeps): void {
  const { audit, opts } = deps;
  r.add({
    method: "POST",
    path: "/upload",
    permission: "instance",
    summary: "Upload files into a folder (multipart field `file`, repeatable; streamed, atomic per file)",
    query: uploadQuery,
    rawBody: true,
  }, async (c, { query }) => {
    const id = numericParam(c, "id");
    const details = { path: query.path, size: 0 };
    try {
      const declared = Number(c.req.header("content-length") ?? "0");
      if (declared > opts.maxUploadBytes) {
        throw new AppError("PAYLOAD_TOO_LARGE", `The upload is larger than ${opts.maxUploadBytes} bytes.`);
      }
      const raw = c.req.raw.body;
      if (!raw) throw new AppError("VALIDATION_FAILED", "The upload has no body.");
      if (query.name !== undefined) checkName(query.name);
      const result = await withSession(deps, id, async ({ fs, confiner }) => {
        const dir = await confiner.existing(query.path);
        details.path = dir.requested;
        if (!(await fs.stat(dir.path)).isDirectory()) {
          throw new AppError("VALIDATION_FAILED", `"${dir.requested}" is not a folder.`);
        }
        const files: Uploaded[] = [];
        for await (const file of filesOf(c.req.raw, capped(raw, opts.maxUploadBytes), query.name)) {
          details.path = joinPath(dir.requested, file.filename);
          const saved = await store(fs, confiner, dir.requested, file, deps, opts.maxUploadBytes - details.size);
          details.size += saved.size;
          files.push(saved);
          recordFileOp(audit, c, id, "upload", { path: saved.path, size: saved.size });
        }
        if (!files.length) throw new AppError("VALIDATION_FAILED", "The upload holds no file.");
        const last = files[files.length - 1];
        return { success: true, path: last.path, filename: last.filename, files };
      });
      return c.json(result);
    } catch (err) {
      const error = sftpError(err, "upload");
      recordFileOp(audit, c, id, "upload", details, error);
      throw error;
    }
  });
}
