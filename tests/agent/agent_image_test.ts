import assert from "node:assert/strict";
// @ts-types="npm:@types/dockerode@4.0.2"
import Docker from "dockerode";
import { authorizedLine } from "../../core/ssh/authorized_line.ts";
import { generateKeyPair } from "../../core/ssh/key_store.ts";
import { buildAgentImage } from "../../scripts/build_agent_image.ts";
import { startPodman } from "../harness/podman.ts";
import { poolFixture, until } from "../harness/pool.ts";

/** Capabilities sshd and supervisord's user switching need; everything else is dropped. */
const CAPS = ["CHOWN", "SETUID", "SETGID", "SYS_CHROOT", "NET_BIND_SERVICE", "KILL", "FOWNER", "DAC_OVERRIDE"];

Deno.test({
  name: "the agent image runs unprivileged, takes its keys from /run/claworc, and serves SSH and the desktop tunnel",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const service = await startPodman();
    const f = await poolFixture({ limits: { maxAttempts: 1000, failuresToBlock: 1000 } });
    const secrets = await Deno.makeTempDir({ prefix: "claworc-agent-secrets-" });
    let container: Docker.Container | undefined;
    try {
      const image = await buildAgentImage(undefined, service.env);
      const hostKey = generateKeyPair("agent-host");
      await Deno.writeTextFile(`${secrets}/host_key`, hostKey.privateKey, { mode: 0o600 });
      await Deno.writeTextFile(`${secrets}/authorized_keys`, authorizedLine(f.keys.publicKey, f.pool.targets) + "\n");
      await Deno.writeTextFile(`${secrets}/gateway_token`, crypto.randomUUID());
      const docker = new Docker({ socketPath: service.socketPath });
      container = await docker.createContainer({
        Image: image,
        Labels: { "managed-by": "claworc-test" },
        HostConfig: {
          Binds: [`${secrets}:/run/claworc:ro`],
          CapDrop: ["ALL"],
          CapAdd: CAPS,
          SecurityOpt: ["no-new-privileges"],
          ShmSize: 256 * 1024 * 1024,
        },
      });
      await container.start();
      const info = await container.inspect();
      assert.equal(info.HostConfig.Privileged, false);
      const ip = Object.values(info.NetworkSettings.Networks ?? {})[0]?.IPAddress;
      assert.ok(ip, "the container has an address");
      assert.ok(
        !JSON.stringify(info.Config.Env ?? []).includes(hostKey.privateKey.slice(40, 80)),
        "no secret in inspect output",
      );
      f.endpoints.set(1, { host: ip, port: 22, username: "agent", hostKey: hostKey.publicKey });

      await until(
        async () => (await f.pool.reconnect(1, 1)).status === "ok",
        30_000,
        "sshd in the container answering",
      );
      assert.equal(f.pins.get(1)?.source, "backend", "the injected host key is the pinned one");
      assert.equal((await f.pool.exec(1, "id -un")).stdout.trim(), "agent");
      // supervisord starts them in order; x11vnc waits for the display.
      for (const p of ["supervisord", "sshd", "Xvfb", "x11vnc", "websockify"]) {
        await until(
          async () => new RegExp(p).test((await f.pool.exec(1, "ps -eo comm")).stdout),
          20_000,
          `${p} running`,
        );
      }

      // The desktop target answers through the SSH tunnel (websockify speaks HTTP first).
      await until(
        async () => {
          try {
            const tunnel = await f.pool.openTunnel(1, "desktop");
            const reply = await new Promise<string>((resolve) => {
              const timer = setTimeout(() => resolve(""), 2_000);
              tunnel.once("data", (d: Buffer) => {
                clearTimeout(timer);
                resolve(d.toString("latin1"));
              });
              tunnel.once("close", () => resolve(""));
              tunnel.write("GET / HTTP/1.0\r\n\r\n");
            });
            tunnel.destroy();
            return reply.startsWith("HTTP/1.");
          } catch {
            return false;
          }
        },
        30_000,
        "websockify answering on 127.0.0.1:3000 through the tunnel",
      );
      // The key may forward nowhere else (sshd's PermitOpen and the key's permitopen).
      await assert.rejects((await f.pool.connect(1)).forward("127.0.0.1", 9222), /SSH channel failed/);

      // A crashed service is restarted by supervisord.
      const pidOf = async () => (await f.pool.exec(1, "pgrep -o -f websockify || true")).stdout.trim();
      const before = await pidOf();
      assert.match(before, /^\d+$/);
      await f.pool.exec(1, `kill -9 ${before}`);
      await until(async () => /^\d+$/.test(await pidOf()) && await pidOf() !== before, 20_000, "websockify restarted");

      // Links the agent plants in its home cannot aim the next start's root writes elsewhere.
      await f.pool.exec(1, "rm -f ~/.npmrc && ln -s /etc/claworc-planted ~/.npmrc && mkdir -p ~/.config/chromium");
      await f.pool.exec(1, "rm -rf ~/.local && ln -s /etc ~/.local");
      f.pool.stop(1);
      // Stop then start (Podman's restart can race its own kill: "container state improper: stopped").
      await container.stop({ t: 5 }).catch(() => {});
      await container.start();
      const again = Object.values((await container.inspect()).NetworkSettings.Networks ?? {})[0]?.IPAddress;
      f.endpoints.set(1, { host: again!, port: 22, username: "agent", hostKey: hostKey.publicKey });
      await until(async () => (await f.pool.reconnect(1, 1)).status === "ok", 30_000, "sshd back after restart")
        .catch(async (e) => {
          throw new Error(
            `${e.message}; container log: ${String(await container!.logs({ stdout: true, stderr: true, tail: 30 }))}`,
          );
        });
      const check = await f.pool.exec(1, "test -e /etc/claworc-planted && echo planted; stat -c %U /etc");
      assert.equal(check.stdout.trim(), "root", "no file planted in /etc, and /etc still belongs to root");
      assert.match((await f.pool.exec(1, "ls -l ~/.ssh/authorized_keys")).stdout, /^-rw------- .* agent agent /);
    } finally {
      await container?.remove({ force: true, v: true }).catch(() => {});
      await f.close();
      await service.stop();
      await Deno.remove(secrets, { recursive: true });
    }
  },
});
