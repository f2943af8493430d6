import { z } from "zod";
import { AppError, numericParam, type Router } from "../../core/mod.ts";
import { writeAtomic } from "./atomic_write.ts";
import { audited } from "./audit_op.ts";
import { decodeBase64 } from "./base64.ts";
import type { Confiner } from "./confine.ts";
import type { FilesDeps } from "./deps.ts";
import { makeDirs } from "./make_dirs.ts";
import { isWithin, normalizePath } from "./paths.ts";
import type { RemoteFs } from "./remote_fs.ts";
import { removeTree } from "./remove_tree.ts";
import { withSession } from "./session.ts";

const pathField = z.string().max(16_384);

/** Body of `POST .../files/create`: the whole new content, written atomically. */
export const createBody = z.object({
  path: pathField,
  content: z.string(),
  /** `base64` for binary content; default UTF-8 text. */
  encoding: z.enum(["utf-8", "base64"]).default("utf-8"),
  /** Refuse (409) when something already exists at `path` (new-file dialogs). */
  exclusive: z.boolean().default(false),
});
export const mkdirBody = z.object({ path: pathField });
export const renameBody = z.object({ old_path: pathField, new_path: pathField });
export const deleteQuery = z.object({
  path: pathField,
  /** `true` removes a folder with its content; otherwise only an empty folder. */
  recursive: z.enum(["true", "false"]).default("false"),
});

/**
 * Where a write lands: a symlink that already exists is followed (and its target confined), so
 * editing a link edits the file it names; anything else is written in place.
 */
async function writeTarget(
  fs: RemoteFs,
  confiner: Confiner,
  raw: string,
): Promise<{ requested: string; path: string }> {
  const entry = await confiner.entry(raw);
  const st = await fs.lstatOrNull(entry.path);
  return st?.isSymbolicLink() ? await confiner.existing(raw) : entry;
}

/** Create/edit, mkdir, delete and rename: every change to the instance's files except uploads. */
export function addWriteRoutes(r: Router, deps: FilesDeps): void {
  const { audit, opts } = deps;
  r.add({
    method: "POST",
    path: "/create",
    permission: "instance",
    summary: "Create or replace a file with the given content (atomic: temp file, then rename)",
    body: createBody,
  }, async (c, { body }) => {
    const id = numericParam(c, "id");
    const result = await audited(audit, c, id, "create", { path: body.path }, async (details) => {
      const bytes = body.encoding === "base64" ? decodeBase64(body.content) : new TextEncoder().encode(body.content);
      if (!bytes) throw new AppError("VALIDATION_FAILED", "Invalid content: not base64.");
      details.size = bytes.length;
      if (bytes.length > opts.maxEditBytes) {
        throw new AppError("PAYLOAD_TOO_LARGE", `The content is larger than ${opts.maxEditBytes} bytes; upload it.`);
      }
      return await withSession(deps, id, async ({ fs, confiner }) => {
        const where = await writeTarget(fs, confiner, body.path);
        details.path = where.requested;
        if (body.exclusive && await fs.lstatOrNull(where.path)) {
          throw new AppError("CONFLICT", `"${where.requested}" already exists.`);
        }
        const source = (async function* () {
          yield bytes;
        })();
        await writeAtomic(fs, where.path, source, {
          chunk: opts.chunkBytes,
          inflight: opts.inflight,
          maxBytes: opts.maxEditBytes,
          exclusive: body.exclusive,
        });
        return { success: true, path: where.requested, size: bytes.length };
      });
    });
    return c.json(result);
  });

  r.add({
    method: "POST",
    path: "/mkdir",
    permission: "instance",
    summary: "Create a folder and any missing parents (mkdir -p)",
    body: mkdirBody,
  }, async (c, { body }) => {
    const id = numericParam(c, "id");
    const result = await audited(
      audit,
      c,
      id,
      "mkdir",
      { path: body.path },
      (details) =>
        withSession(deps, id, async ({ fs, confiner }) => {
          details.created = await makeDirs(fs, confiner, body.path);
          details.path = normalizePath(body.path); // as the other routes answer and audit it
          return { success: true, path: details.path };
        }),
    );
    return c.json(result);
  });

  r.add({
    method: "DELETE",
    path: "",
    permission: "instance",
    summary: "Delete a file, link or folder (a non-empty folder only with recursive=true)",
    query: deleteQuery,
  }, async (c, { query }) => {
    const id = numericParam(c, "id");
    const result = await audited(
      audit,
      c,
      id,
      "delete",
      { path: query.path },
      (details) =>
        withSession(deps, id, async ({ fs, confiner }) => {
          const where = await confiner.entry(query.path);
          details.path = where.requested;
          if (await confiner.holdsRoot(where.path)) {
            throw new AppError("FORBIDDEN", "A shared root folder, or a folder holding one, cannot be deleted.");
          }
          const removed = await removeTree(fs, where.path, query.recursive === "true");
          Object.assign(details, { size: removed.bytes, files: removed.files, folders: removed.folders });
          return { success: true, path: where.requested, ...removed };
        }),
    );
    return c.json(result);
  });

  r.add({
    method: "POST",
    path: "/rename",
    permission: "instance",
    summary: "Rename or move a file, link or folder (never replaces an existing one)",
    body: renameBody,
  }, async (c, { body }) => {
    const id = numericParam(c, "id");
    const result = await audited(
      audit,
      c,
      id,
      "rename",
      { path: body.old_path, to: body.new_path },
      (details) =>
        withSession(deps, id, async ({ fs, confiner }) => {
          const from = await confiner.entry(body.old_path);
          const to = await confiner.entry(body.new_path);
          Object.assign(details, { path: from.requested, to: to.requested });
          if (await confiner.holdsRoot(from.path)) {
            throw new AppError("FORBIDDEN", "A shared root folder, or a folder holding one, cannot be moved.");
          }
          const st = await fs.lstat(from.path);
          if (st.isDirectory() && isWithin(to.path, from.path)) {
            throw new AppError("VALIDATION_FAILED", "A folder cannot be moved into itself.");
          }
          if (await fs.lstatOrNull(to.path)) {
            throw new AppError("CONFLICT", `"${to.requested}" already exists.`);
          }
          await fs.rename(from.path, to.path);
          details.size = st.size;
          return { success: true, path: to.requested, old_path: from.requested };
        }),
    );
    return c.json(result);
  });
}
