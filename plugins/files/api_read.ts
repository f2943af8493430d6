import { z } from "zod";
import { AppError, numericParam, type Router } from "../../core/mod.ts";
import { audited, recordFileOp } from "./audit_op.ts";
import { attachment } from "./content_disposition.ts";
import type { FilesDeps } from "./deps.ts";
import { remoteFileStream } from "./file_stream.ts";
import { listFolder } from "./listing.ts";
import { baseName } from "./paths.ts";
import { readFileContent } from "./read_file.ts";
import { sftpError } from "./remote_fs.ts";
import { openInstanceSession, withSession } from "./session.ts";

/** A path in the query; checked for syntax and confinement by the handler (so refusals are audited). */
export const pathQuery = z.object({ path: z.string().max(16_384) });
export const browseQuery = z.object({ path: z.string().max(16_384).optional() });

/** Browse, read and download: reads that never change the instance. */
export function addReadRoutes(r: Router, deps: FilesDeps): void {
  const { audit, opts } = deps;
  r.add({
    method: "GET",
    path: "/browse",
    permission: "instance",
    summary: "List a folder (name, type, size, mode, mtime, symlink target); default: the first root",
    query: browseQuery,
  }, async (c, { query }) => {
    const id = numericParam(c, "id");
    const body = await audited(
      audit,
      c,
      id,
      "browse",
      { path: query.path ?? "" },
      (details) =>
        withSession(deps, id, async ({ fs, confiner }) => {
          const roots = await confiner.presentRoots();
          if (!roots.length) throw new AppError("NOT_FOUND", "None of the shared folders exists on this instance.");
          const where = await confiner.existing(query.path || roots[0]);
          details.path = where.requested;
          if (!(await fs.stat(where.path)).isDirectory()) {
            throw new AppError("VALIDATION_FAILED", `"${where.requested}" is not a folder.`);
          }
          const entries = await listFolder(fs, where.path);
          details.entries = entries.length;
          return { path: where.path, roots, entries };
        }),
    );
    return c.json(body);
  });

  r.add({
    method: "GET",
    path: "/read",
    permission: "instance",
    summary: "A small file's content: UTF-8 text, or base64 for anything else",
    query: pathQuery,
  }, async (c, { query }) => {
    const id = numericParam(c, "id");
    const body = await audited(
      audit,
      c,
      id,
      "read",
      { path: query.path },
      (details) =>
        withSession(deps, id, async ({ fs, confiner }) => {
          const where = await confiner.existing(query.path);
          details.path = where.requested;
          const content = await readFileContent(fs, where.path, where.requested, opts.maxEditBytes, opts.chunkBytes);
          details.size = content.size;
          return content;
        }),
    );
    return c.json(body);
  });

  r.add({
    method: "GET",
    path: "/download",
    permission: "instance",
    summary: "A file as a byte stream (attachment; any file name)",
    query: pathQuery,
  }, async (c, { query }) => {
    const id = numericParam(c, "id");
    const details = { path: query.path, size: 0 };
    let session;
    try {
      session = await openInstanceSession(deps, id);
      const where = await session.confiner.existing(query.path);
      details.path = where.requested;
      const st = await session.fs.stat(where.path);
      if (!st.isFile()) throw new AppError("VALIDATION_FAILED", `"${where.requested}" is not a regular file.`);
      const handle = await session.fs.open(where.path, "r");
      const headers = {
        "content-type": "application/octet-stream",
        "content-length": String(st.size),
        "content-disposition": attachment(baseName(where.requested)),
        "cache-control": "no-store",
      };
      if (c.req.method === "HEAD") {
        // Hono runs this GET handler for HEAD: the same answer (the file could be opened), no bytes sent.
        await session.fs.close(handle).catch(() => {});
        session.end();
        recordFileOp(audit, c, id, "download", { ...details, head: true });
        return new Response(null, { headers });
      }
      const s = session;
      const stream = remoteFileStream(s.fs, handle, st.size, {
        chunk: opts.chunkBytes,
        inflight: opts.inflight,
        onEnd: (sent, error) => {
          s.end();
          recordFileOp(audit, c, id, "download", { ...details, size: sent }, error === undefined ? undefined : error);
        },
      });
      return new Response(stream, { headers });
    } catch (err) {
      session?.end();
      const error = sftpError(err, "download");
      recordFileOp(audit, c, id, "download", details, error);
      throw error;
    }
  });
}
