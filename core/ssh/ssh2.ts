/**
 * The one place ssh2 is imported, with its types (see environment.md: keep @types/node 24 in charge).
 * The module itself is loaded at the first connection (`loadSsh2`), not at start: it costs about 25 MB
 * resident, which a control plane with no running instance does not need to carry.
 */
// @ts-types="npm:@types/ssh2@1.15.6"
import type ssh2 from "ssh2";

export type { ClientChannel, ConnectConfig, SFTPWrapper } from "ssh2";
export type Client = InstanceType<typeof ssh2.Client>;

let loaded: Promise<typeof ssh2> | undefined;

/** ssh2's module, imported once on first use, with our chacha20-poly1305 installed (ssh2_install.ts). */
export function loadSsh2(): Promise<typeof ssh2> {
  return loaded ??= import("./ssh2_install.ts").then(() => import("ssh2")).then((m) => m.default);
}
