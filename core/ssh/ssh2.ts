/** The one place ssh2 is imported, with its types (see environment.md: keep @types/node 24 in charge). */
// @ts-types="npm:@types/ssh2@1.15.6"
import ssh2 from "ssh2";

export type { ClientChannel, ConnectConfig, SFTPWrapper } from "ssh2";
export const { Client, utils } = ssh2;
export type Client = InstanceType<typeof ssh2.Client>;
