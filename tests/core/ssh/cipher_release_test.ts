/**
 * Deno keeps a node:crypto cipher's native state in its resource table until `final()`, and
 * garbage collection never frees it. These tests hold the transport to releasing every cipher it
 * makes: per packet (chacha20-poly1305) and per connection (ssh2's aes*-ctr), against real sshd.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHash, randomBytes } from "node:crypto";
import { authorizedLine } from "../../../core/ssh/authorized_line.ts";
import { ChaChaPolyOpener, ChaChaPolySealer } from "../../../core/ssh/chacha_poly.ts";
import { Poly1305 } from "../../../core/ssh/poly1305.ts";
import { loadSsh2 } from "../../../core/ssh/ssh2.ts";
import type { TunnelTarget } from "../../../core/ssh/tunnel_targets.ts";
import { runtimeResourceCount } from "../../_helpers/runtime_resources.ts";
import { echoServer, poolFixture, until } from "../../harness/pool.ts";
import { connectClient, endClient, startSshd } from "../../harness/sshd.ts";

const PACKETS = 3_000;

Deno.test("chacha20-poly1305: sealing and opening thousands of packets, a refused one included, leave no native state behind", () => {
  const poly = new Poly1305();
  const key = randomBytes(64);
  const wire: Buffer[] = [];
  const opened: Buffer[] = [];
  const sealer = new ChaChaPolySealer({ key, seqno: 0 }, (b) => void wire.push(Buffer.from(b)), poly);
  const opener = new ChaChaPolyOpener({ key, seqno: 0 }, (p) => void opened.push(Buffer.from(p)), poly);
  const before = runtimeResourceCount();
  for (let i = 0; i < PACKETS; i++) {
    const payload = randomBytes(i % 2 ? 32 * 1024 : 40);
    const packet = sealer.allocPacket(payload.length);
    packet.set(payload, 5);
    sealer.encrypt(packet);
    const sealed = wire.pop()!;
    opener.decrypt(sealed, 0, sealed.length);
    assert.deepEqual(opened.pop(), payload);
  }
  // A tampered packet: refused, and its cipher released all the same.
  const packet = sealer.allocPacket(100);
  sealer.encrypt(packet);
  const bad = wire.pop()!;
  bad[bad.length - 1] ^= 1;
  assert.throws(() => opener.decrypt(bad, 0, bad.length), /Invalid MAC/);
  assert.equal(runtimeResourceCount() - before, 0, "resource table entries left by the ciphers");
});

Deno.test("SSH transport against a real sshd: a 16 MB tunnel, execs and an SFTP read leave the resource table as they found it", async () => {
  const echo = echoServer();
  const targets: TunnelTarget[] = [{ name: "echo", host: "127.0.0.1", port: echo.port }];
  const f = await poolFixture({ targets });
  const sshd = await startSshd({ authorizedKeys: [authorizedLine(f.keys.publicKey, targets)] });
  try {
    f.endpoints.set(1, { host: sshd.host, port: sshd.port, username: sshd.user });
    const conn = await f.pool.connect(1);
    assert.equal((await conn.exec("echo warm")).stdout, "warm\n");
    const baseline = runtimeResourceCount();

    const tunnel = await f.pool.openTunnel(1, "echo");
    const sent = createHash("sha256"), got = createHash("sha256");
    let received = 0;
    const echoed = new Promise<void>((resolve) =>
      tunnel.on("data", (d: Buffer) => {
        got.update(d);
        if ((received += d.length) >= 16 << 20) resolve();
      })
    );
    for (let i = 0; i < 16; i++) {
      const chunk = randomBytes(1 << 20);
      sent.update(chunk);
      if (!tunnel.write(chunk)) await new Promise((r) => tunnel.once("drain", r));
    }
    await echoed;
    assert.equal(got.digest("hex"), sent.digest("hex"));
    tunnel.destroy();
    for (let i = 0; i < 20; i++) assert.equal((await conn.exec(`echo ${i}`)).stdout, `${i}\n`);
    const sftp = await conn.sftp();
    const read = await new Promise<Buffer>((resolve, reject) =>
      sftp.readFile("/etc/hostname", (err, data) => err ? reject(err) : resolve(data))
    );
    assert.ok(read.length > 0);
    sftp.end();

    // About 1,100 packets went each way; the echo server's connection closes shortly after the tunnel.
    await until(() => runtimeResourceCount() <= baseline, 5_000, "the resource table back at its baseline")
      .catch(() => assert.fail(`${runtimeResourceCount() - baseline} resource table entries more than before`));
  } finally {
    await f.close();
    await sshd.close();
    echo.close();
  }
});

Deno.test("SSH transport against a real sshd: connections on aes128-ctr release their ciphers when they end", async () => {
  await loadSsh2(); // installs our cipher handling into ssh2, as the pool does
  const f = await poolFixture();
  const sshd = await startSshd({ authorizedKeys: [f.keys.publicKey] });
  const algorithms = { cipher: ["aes128-ctr" as const], hmac: ["hmac-sha2-256-etm@openssh.com" as const] };
  try {
    const once = async () => {
      const client = await connectClient(sshd, { privateKey: f.keys.privateKey, algorithms });
      await endClient(client);
    };
    await once();
    const baseline = runtimeResourceCount();
    for (let i = 0; i < 4; i++) await once();
    await until(() => runtimeResourceCount() <= baseline, 5_000, "the resource table back at its baseline")
      .catch(() => assert.fail(`${runtimeResourceCount() - baseline} resource table entries more after 4 connections`));
  } finally {
    await f.close();
    await sshd.close();
  }
});
