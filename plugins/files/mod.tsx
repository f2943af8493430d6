import { definePlugin, Island } from "../../core/mod.ts";
import { addReadRoutes } from "./api_read.ts";
import { addUploadRoute } from "./api_upload.ts";
import { addWriteRoutes } from "./api_write.ts";
import FileManager from "./islands/file_manager.tsx";
import { filesDefaults, type FilesPluginOptions } from "./options.ts";
import { normalizePath } from "./paths.ts";

export { filesDefaults, type FilesPluginOptions } from "./options.ts";

/**
 * The instance's files over SFTP (never shell commands): browse, read, download, upload, create and
 * edit (atomic), mkdir, delete, rename, confined to `roots` as resolved on the instance, every
 * operation audited as `file.<op>`. API at `/api/v1/instances/:id/files/...` (the reference's paths);
 * UI in the instance's "Files" tab.
 */
export function filesPlugin(options: FilesPluginOptions = {}) {
  const opts = { ...filesDefaults, ...options };
  opts.roots = opts.roots.map(normalizePath);
  if (!opts.roots.length) throw new Error("The files plugin needs at least one root folder.");
  return definePlugin({
    name: "files",
    needs: ["ssh", "instances", "audit"],
    setup(ctx) {
      const { ssh, instances, audit } = ctx.services;
      const deps = { ssh, instances, audit, opts };
      const r = ctx.api("/instances/:id/files");
      addReadRoutes(r, deps);
      addWriteRoutes(r, deps);
      addUploadRoute(r, deps);
      ctx.instanceTab({
        path: "files",
        title: "Files",
        order: 200,
        render: (_c, _user, instanceId) => (
          <Island
            name="file_manager"
            component={FileManager}
            props={{
              instanceId,
              roots: opts.roots,
              maxEditBytes: opts.maxEditBytes,
              maxUploadBytes: opts.maxUploadBytes,
            }}
          />
        ),
      });
    },
  });
}
