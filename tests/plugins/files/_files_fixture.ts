import assert from "node:assert/strict";
import type { SshEndpoint } from "../../../core/mod.ts";
import { authorizedLine } from "../../../core/ssh/authorized_line.ts";
import { builtinPlugins } from "../../../plugins/mod.ts";
import { filesPlugin, type FilesPluginOptions } from "../../../plugins/files/mod.tsx";
import { ORIGIN, type TestApp, testApp } from "../../_helpers/harness.ts";
import { fixedBackend } from "../../harness/fixed_backend.ts";
import { type Sshd, startSshd, TEST_USER } from "../../harness/sshd.ts";

/**
 * An app with the files plugin whose one instance is a real OpenSSH sshd logging in as the harness
 * user; the plugin is confined to a fresh folder in that user's home (`root`), and `outside` is a
 * sibling folder the same user owns, which only confinement keeps out of reach.
 */
export interface FilesWorld {
  t: TestApp;
  sshd: Sshd;
  instanceId: number;
  admin: string;
  /** `/api/v1/instances/<id>/files`. */
  base: string;
  root: string;
  outside: string;
  /** The harness user's uid and gid (files made by the test are given to it). */
  owner: { uid: number; gid: number };
  close(): Promise<void>;
}

async function idOf(flag: string): Promise<number> {
  const out = await new Deno.Command("id", { args: [flag, TEST_USER], stdout: "piped" }).output();
  return Number(new TextDecoder().decode(out.stdout).trim());
}

/** Makes a folder owned by the harness user. */
export async function ownedDir(path: string, owner: { uid: number; gid: number }, mode = 0o755): Promise<string> {
  await Deno.mkdir(path, { recursive: true });
  await Deno.chown(path, owner.uid, owner.gid);
  await Deno.chmod(path, mode);
  return path;
}

/** Writes a file owned by the harness user. */
export async function ownedFile(path: string, data: Uint8Array | string, owner: { uid: number; gid: number }) {
  if (typeof data === "string") await Deno.writeTextFile(path, data);
  else await Deno.writeFile(path, data);
  await Deno.chown(path, owner.uid, owner.gid);
}

export async function filesWorld(
  opts: {
    env?: Record<string, string>;
    plugin?: FilesPluginOptions;
    /** The plugin's roots, given the test folder (default: just that folder). */
    rootsOf?: (root: string) => string[];
    /** Prepares the test folder before sshd starts (mounts made here are visible to it). */
    beforeSshd?: (root: string, owner: { uid: number; gid: number }) => Promise<void>;
  } = {},
): Promise<FilesWorld> {
  const endpoints = new Map<string, SshEndpoint>();
  const tag = crypto.randomUUID().slice(0, 8);
  const home = `/var/lib/${TEST_USER}`;
  const root = `${home}/files-${tag}`;
  const outside = `${home}/outside-${tag}`;
  const plugins = [
    ...builtinPlugins().filter((p) => p.name !== "files"),
    fixedBackend(endpoints),
    filesPlugin({ roots: opts.rootsOf?.(root) ?? [root], ...opts.plugin }),
  ];
  const t = await testApp(opts.env ?? {}, plugins);
  let sshd: Sshd | undefined;
  try {
    // The first sshd creates the harness user; folders are made before sshd starts, so mounts made
    // in `beforeSshd` are visible in its private mount namespace.
    const owner = await idOf("-u").then(async (uid) => ({ uid, gid: await idOf("-g") })).catch(() => null);
    if (owner && owner.uid > 0) {
      await ownedDir(root, owner);
      await ownedDir(outside, owner);
      await opts.beforeSshd?.(root, owner);
    }
    sshd = await startSshd({ authorizedKeys: [authorizedLine(t.services.sshKeys.publicKey, t.services.ssh.targets)] });
    const ids = { uid: await idOf("-u"), gid: await idOf("-g") };
    if (!owner || owner.uid <= 0) {
      await ownedDir(root, ids);
      await ownedDir(outside, ids);
      await opts.beforeSshd?.(root, ids);
    }
    endpoints.set("bot-a", { host: sshd.host, port: sshd.port, username: sshd.user });
    const instanceId = t.services.instances.insert("bot-a", "A").id;
    const admin = await t.setupAdmin();
    const s = sshd;
    return {
      t,
      sshd: s,
      instanceId,
      admin,
      base: `/api/v1/instances/${instanceId}/files`,
      root,
      outside,
      owner: ids,
      async close() {
        await t.close();
        await s.close();
        await Deno.remove(root, { recursive: true }).catch(() => {});
        await Deno.remove(outside, { recursive: true }).catch(() => {});
      },
    };
  } catch (err) {
    await t.close();
    await sshd?.close();
    throw err;
  }
}

/** `path=<p>` for a query string. */
export const q = (path: string) => `path=${encodeURIComponent(path)}`;

/** A JSON answer with the expected status (the body in the message when it differs). */
export async function json(res: Response, status = 200) {
  const text = await res.text();
  assert.equal(res.status, status, text);
  return text ? JSON.parse(text) : undefined;
}

/** Audit entries of `file.<op>`, newest first. */
export function fileAudit(w: FilesWorld, op: string) {
  return w.t.services.audit.query({ action: `file.${op}`, limit: 1000, offset: 0 }).entries;
}

/** A multipart/form-data body with one `file` part per entry (bytes, not streamed). */
export function multipart(files: { name: string; data: Uint8Array }[], boundary = "----claworc" + crypto.randomUUID()) {
  const enc = new TextEncoder();
  const chunks: Uint8Array[] = [];
  for (const f of files) {
    const quoted = f.name.replace(/"/g, "%22").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
    chunks.push(enc.encode(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${quoted}"\r\n`));
    chunks.push(enc.encode(`Content-Type: application/octet-stream\r\n\r\n`), f.data, enc.encode("\r\n"));
  }
  chunks.push(enc.encode(`--${boundary}--\r\n`));
  const body = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) (body.set(c, at), at += c.length);
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

/** A request as a browser on ORIGIN sends it, with any body (bytes or a stream; `t.request` takes text only). */
export function send(
  w: FilesWorld,
  method: string,
  path: string,
  opts: { body?: BodyInit; headers?: Record<string, string>; cookie?: string } = {},
): Promise<Response> {
  const headers: Record<string, string> = { origin: ORIGIN, cookie: opts.cookie ?? w.admin, ...opts.headers };
  const init: RequestInit & { duplex?: string } = { method, headers, body: opts.body };
  if (opts.body instanceof ReadableStream) init.duplex = "half";
  return Promise.resolve(w.t.app.request(`${ORIGIN}${path}`, init, { remoteAddr: { hostname: "192.0.2.10" } }));
}
