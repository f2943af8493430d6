/** Options of the files plugin (every field has a default in `filesDefaults`). */
export interface FilesPluginOptions {
  /**
   * Absolute folders on the instance that file operations are confined to. A path is allowed when,
   * resolved on the instance (symlinks included), it is one of them or lies below one.
   */
  roots?: string[];
  /** Largest file `read` returns and `create` writes from JSON (bytes); bigger files are downloaded. */
  maxEditBytes?: number;
  /** Largest total body of one upload request (bytes); counted while streaming, not trusted from headers. */
  maxUploadBytes?: number;
  /**
   * Bytes per SFTP read or write request, and how many are kept in flight (memory = their product, 2 MiB
   * per transfer by default: measured here, 128 KiB × 16 moves about 1.5× what 64 KiB × 8 did).
   */
  chunkBytes?: number;
  inflight?: number;
}

/** The agent user's home and its workspace (see `agent/Dockerfile`); 5 MiB edits, 2 GiB uploads. */
export const filesDefaults = {
  roots: ["/home/agent", "/home/agent/workspace"],
  maxEditBytes: 5 * 1024 * 1024,
  maxUploadBytes: 2 * 1024 * 1024 * 1024,
  chunkBytes: 128 * 1024,
  inflight: 16,
} satisfies Required<FilesPluginOptions>;

export type FilesOptions = Required<FilesPluginOptions>;
