// @ts-types="npm:@types/tar-stream@3.1.5"
import { pack } from "tar-stream";
import { Buffer } from "node:buffer";

/**
 * A tar archive of small files (mode 0600), the format the Docker API's `PUT /containers/{id}/archive`
 * takes, so secrets arrive as files and never in the container's configuration or `inspect` output.
 */
export async function tarFiles(files: Record<string, string>): Promise<Buffer> {
  const archive = pack();
  for (const [name, content] of Object.entries(files)) {
    if (!/^[A-Za-z0-9._-]{1,100}$/.test(name)) throw new TypeError(`Unsafe file name for an archive: ${name}`);
    archive.entry({ name, mode: 0o600 }, content);
  }
  archive.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of archive) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
