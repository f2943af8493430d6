import { fileURLToPath } from "node:url";
import type { Plugin } from "../../../core/plugins/contract.ts";
import { authorizedLine } from "../../../core/ssh/authorized_line.ts";
import type { SshOptions } from "../../../core/ssh/options.ts";
import { type TestApp, testApp } from "../../_helpers/harness.ts";
import { fixedBackend } from "../../harness/fixed_backend.ts";
import { netnsHost } from "../../harness/netns.ts";
import { until } from "../../harness/pool.ts";
import { startSshd } from "../../harness/sshd.ts";

const FAKE = fileURLToPath(new URL("./_fake_websockify.ts", import.meta.url));

/** An event the fake websockify reported (see `_fake_websockify.ts`). */
export interface FakeEvent {
  event: "listening" | "open" | "data" | "text" | "close";
  conn?: number;
  [key: string]: unknown;
}

/**
 * The app with `plugins` on a real port and one instance that is a harness sshd in its own network
 * namespace, where the fake websockify listens on the namespace's 127.0.0.1:3000: the very address the
 * installed key line lets the control plane forward to, as inside a real instance.
 */
export interface DesktopWorld {
  t: TestApp;
  id: number;
  admin: string;
  /** http://127.0.0.1:<port> of the app */
  http: string;
  /** ws://.../api/v1/instances/<id>/desktop/websockify */
  url: string;
  events: FakeEvent[];
  /** Bytes the fake websockify received on connection `conn`, in order. */
  receivedBy(conn: number): Uint8Array;
  close(): Promise<void>;
}

export async function desktopWorld(
  mode: "echo" | "record",
  plugins: Plugin[],
  ssh: Partial<SshOptions> = {},
): Promise<DesktopWorld> {
  const endpoints = new Map<string, { host: string; port: number; username: string }>();
  const t = await testApp({}, [fixedBackend(endpoints), ...plugins], { ssh });
  const cleanup: (() => Promise<unknown> | void)[] = [() => t.close()];
  const close = async () => {
    for (const f of cleanup.reverse()) await Promise.resolve().then(f).catch(() => {});
  };
  try {
    const host = await netnsHost();
    cleanup.push(() => host.close());
    const sshd = await startSshd({
      netns: host.name,
      listenAddress: host.address,
      authorizedKeys: [authorizedLine(t.services.sshKeys.publicKey, t.services.ssh.targets)],
    });
    cleanup.push(() => sshd.close());
    const events: FakeEvent[] = [];
    const fake = new Deno.Command("ip", {
      args: ["netns", "exec", host.name, Deno.execPath(), "run", "-A", FAKE, "3000", mode],
      stdout: "piped",
      stderr: "inherit",
      stdin: "null",
    }).spawn();
    const reading = (async () => {
      let rest = "";
      for await (const chunk of fake.stdout.pipeThrough(new TextDecoderStream())) {
        rest += chunk;
        const lines = rest.split("\n");
        rest = lines.pop()!;
        for (const line of lines) if (line.trim()) events.push(JSON.parse(line));
      }
    })();
    cleanup.push(async () => {
      fake.kill("SIGTERM");
      await fake.status;
      await reading.catch(() => {});
    });
    await until(() => events.some((e) => e.event === "listening"), 20_000, "the fake websockify");

    endpoints.set("desk", { host: sshd.host, port: sshd.port, username: sshd.user });
    const id = t.services.instances.insert("desk", "Desk").id;
    const admin = await t.setupAdmin();
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req, info) => t.app.fetch(req, info));
    cleanup.push(() => server.shutdown());
    await t.services.ssh.connect(id);
    const http = `http://127.0.0.1:${server.addr.port}`;
    return {
      t,
      id,
      admin,
      http,
      url: `ws://127.0.0.1:${server.addr.port}/api/v1/instances/${id}/desktop/websockify`,
      events,
      receivedBy(conn) {
        const parts = events.filter((e) => e.event === "data" && e.conn === conn)
          .map((e) => Uint8Array.from(atob(e.bytes as string), (c) => c.charCodeAt(0)));
        const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
        let at = 0;
        for (const p of parts) (out.set(p, at), at += p.length);
        return out;
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
