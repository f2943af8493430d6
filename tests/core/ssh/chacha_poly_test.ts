import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createCipheriv, createHash, randomBytes, randomInt } from "node:crypto";
import ssh2Crypto from "ssh2/lib/protocol/crypto.js";
import { chacha20Block, keyWords, seqnoNonce } from "../../../core/ssh/chacha20_block.ts";
import { ChaChaPolyOpener, ChaChaPolySealer } from "../../../core/ssh/chacha_poly.ts";
import { Poly1305 } from "../../../core/ssh/poly1305.ts";
import { authorizedLine } from "../../../core/ssh/authorized_line.ts";
import type { TunnelTarget } from "../../../core/ssh/tunnel_targets.ts";
import { startSshd } from "../../harness/sshd.ts";
import { echoServer, poolFixture } from "../../harness/pool.ts";

const CHACHA = "chacha20-poly1305@openssh.com";
const poly = new Poly1305();
await ssh2Crypto.init;

/** A 64-byte key, as the key exchange derives it (K_2 then K_1). */
const newKey = () => randomBytes(64);

function ourSealer(key: Buffer, seqno: number, wire: Buffer[]) {
  return new ChaChaPolySealer(
    { key, seqno },
    (b) => void wire.push(Buffer.from(b)),
    poly,
  );
}
function ourOpener(key: Buffer, seqno: number, payloads: Buffer[]) {
  return new ChaChaPolyOpener(
    { key, seqno },
    (p) => void payloads.push(Buffer.from(p)),
    poly,
  );
}
/** ssh2's own implementation (pure JS: its native binding is not built here). */
function theirSealer(key: Buffer, seqno: number, wire: Buffer[]) {
  const info = ssh2Crypto.CIPHER_INFO[CHACHA];
  return ssh2Crypto.createCipher({
    outbound: { seqno, onWrite: (b: Buffer) => void wire.push(Buffer.from(b)), cipherInfo: info, cipherKey: key },
  }) as { allocPacket(n: number): Buffer; encrypt(p: Buffer): void };
}
function theirOpener(key: Buffer, seqno: number, payloads: Buffer[]) {
  const info = ssh2Crypto.CIPHER_INFO[CHACHA];
  return ssh2Crypto.createDecipher({
    inbound: {
      seqno,
      onPayload: (p: Buffer) => void payloads.push(Buffer.from(p)),
      decipherInfo: info,
      decipherKey: key,
    },
  }) as { decrypt(d: Buffer, p: number, len: number): unknown };
}

/** Payloads of every size class: empty, tiny, block-edge, and a full 32 KiB channel packet. */
function payloads(): Buffer[] {
  const sizes = [0, 1, 7, 8, 15, 16, 17, 63, 64, 65, 1000, 32 * 1024 + 9];
  for (let i = 0; i < 20; i++) sizes.push(randomInt(0, 32 * 1024 + 10));
  return sizes.map((n) => randomBytes(n));
}

function seal(sealer: { allocPacket(n: number): Buffer; encrypt(p: Buffer): void }, list: Buffer[]) {
  for (const payload of list) {
    const packet = sealer.allocPacket(payload.length);
    packet.set(payload, 5);
    sealer.encrypt(packet);
  }
}

/** Feeds `wire` to `open` in pieces of random size (1 byte at times), as TCP may deliver it. */
function deliver(wire: Buffer, open: { decrypt(d: Buffer, p: number, len: number): unknown }) {
  for (let at = 0; at < wire.length;) {
    const n = Math.min(wire.length - at, randomInt(0, 3) === 0 ? 1 : randomInt(1, 70_000));
    // A fresh buffer each time, with the piece at an offset, like a socket read into a larger buffer.
    const buf = Buffer.alloc(n + 8);
    wire.copy(buf, 3, at, at + n);
    open.decrypt(buf, 3, 3 + n);
    at += n;
  }
}

Deno.test("chacha20 block: the keystream node:crypto's chacha20 gives, for any key and sequence number", () => {
  for (let i = 0; i < 500; i++) {
    const key = randomBytes(32);
    const seqno = [0, 1, 0xff, 0x01020304, 0xffffffff][i] ?? randomBytes(4).readUInt32BE(0);
    const counter = i % 3;
    const iv = Buffer.alloc(16);
    iv[0] = counter;
    iv.writeUInt32BE(seqno, 12);
    const expected = createCipheriv("chacha20", key, iv).update(Buffer.alloc(64));
    const words = chacha20Block(keyWords(key), counter, ...seqnoNonce(seqno));
    const got = Buffer.alloc(64);
    words.forEach((w, j) => got.writeUInt32LE(w, j * 4));
    assert.deepEqual(got, expected, `seqno ${seqno}, counter ${counter}`);
  }
});

Deno.test("chacha20-poly1305: ours and ssh2's read each other's packets, whatever the chunking", () => {
  for (const seqno of [0, 5, 0xffffffff - 3]) {
    const key = newKey();
    const list = payloads();
    // Ours → ssh2's.
    let wire: Buffer[] = [];
    seal(ourSealer(key, seqno, wire), list);
    assert.equal(wire.length, list.length, "one write per sealed packet");
    let got: Buffer[] = [];
    deliver(Buffer.concat(wire), theirOpener(key, seqno, got));
    assert.deepEqual(got, list);
    // ssh2's → ours.
    wire = [];
    seal(theirSealer(key, seqno, wire), list);
    got = [];
    deliver(Buffer.concat(wire), ourOpener(key, seqno, got));
    assert.deepEqual(got, list);
    // And the same bytes on the wire: the construction is the same.
    const ours: Buffer[] = [], theirs: Buffer[] = [];
    const fixed = [Buffer.from("same packet"), randomBytes(34_000), randomBytes(70_000)];
    const zeroPadding = (s: { allocPacket(n: number): Buffer }) => {
      const alloc = s.allocPacket.bind(s);
      s.allocPacket = (n) => alloc(n).fill(0, 5 + n);
    };
    const a = ourSealer(key, seqno, ours), b = theirSealer(key, seqno, theirs);
    zeroPadding(a);
    zeroPadding(b);
    seal(a, fixed);
    seal(b, fixed);
    assert.deepEqual(Buffer.concat(ours), Buffer.concat(theirs));
  }
});

Deno.test("chacha20-poly1305: packets sealed out of turn or made elsewhere keep their bytes (the reused buffer)", () => {
  const key = newKey();
  const [first, second, third, fourth] = [randomBytes(32 * 1024), randomBytes(100), randomBytes(5000), randomBytes(40)];
  const wire: Buffer[] = [];
  const sealer = ourSealer(key, 0, wire);
  // ssh2 queues packets during a re-key: two are made before either is sealed.
  const p1 = sealer.allocPacket(first.length);
  p1.set(first, 5);
  const p2 = sealer.allocPacket(second.length);
  p2.set(second, 5);
  sealer.encrypt(p1);
  sealer.encrypt(p2);
  // The buffer is reused for the next packet, which is smaller and then larger than the last.
  const p3 = sealer.allocPacket(third.length);
  p3.set(third, 5);
  sealer.encrypt(p3);
  // A packet ssh2 made itself (its queue after a re-key) is sealed from a copy.
  const foreign = theirSealer(newKey(), 0, []).allocPacket(fourth.length);
  foreign.set(fourth, 5);
  sealer.encrypt(foreign);
  const got: Buffer[] = [];
  deliver(Buffer.concat(wire), theirOpener(key, 0, got));
  assert.deepEqual(got, [first, second, third, fourth]);
});

Deno.test("chacha20-poly1305: a changed byte anywhere is refused, and nothing of that packet is delivered", () => {
  const key = newKey();
  const wire: Buffer[] = [];
  seal(ourSealer(key, 9, wire), [randomBytes(100), randomBytes(300)]);
  const stream = Buffer.concat(wire);
  const first = wire[0].length;
  for (const at of [0, 3, 4, 50, first - 17, first - 1, first + 10, stream.length - 1]) {
    const bad = Buffer.from(stream);
    bad[at] ^= 0x01;
    const got: Buffer[] = [];
    assert.throws(
      () => ourOpener(key, 9, got).decrypt(bad, 0, bad.length),
      /Invalid MAC|Bad packet length/,
      `byte ${at}`,
    );
    // A change in the second packet still delivers the first, which was intact.
    assert.equal(got.length, at >= first ? 1 : 0, `byte ${at}`);
  }
  // The wrong sequence number (a replayed or reordered packet) is refused too.
  assert.throws(() => ourOpener(key, 10, []).decrypt(stream, 0, stream.length), /Invalid MAC|Bad packet length/);
});

Deno.test("chacha20-poly1305: a defined answer from onPayload stops there and gives the offset, as ssh2 expects", () => {
  const key = newKey();
  const wire: Buffer[] = [];
  seal(ourSealer(key, 0, wire), [Buffer.from("one"), Buffer.from("two")]);
  const stream = Buffer.concat(wire);
  const seen: string[] = [];
  const opener = new ChaChaPolyOpener(
    { key, seqno: 0 },
    (p) => (seen.push(p.toString()), false),
    poly,
  );
  assert.equal(opener.decrypt(stream, 0, stream.length), wire[0].length);
  assert.deepEqual(seen, ["one"]);
  // ssh2 re-points the handler during a re-key; the next packet goes to the new one.
  opener._onPayload = (p) => void seen.push(`new:${p}`);
  assert.equal(opener.decrypt(stream, wire[0].length, stream.length), undefined);
  assert.deepEqual(seen, ["one", "new:two"]);
});

Deno.test("chacha20-poly1305 against a real sshd: ours both ways, through re-keys from either side, byte-exact", async () => {
  const echo = echoServer();
  const targets: TunnelTarget[] = [{ name: "echo", host: "127.0.0.1", port: echo.port }];
  const f = await poolFixture({ targets });
  // sshd re-keys after every 4 MB, while data flows.
  const sshd = await startSshd({
    authorizedKeys: [authorizedLine(f.keys.publicKey, targets)],
    extraConfig: "RekeyLimit 4M",
  });
  try {
    f.endpoints.set(1, { host: sshd.host, port: sshd.port, username: sshd.user });
    const conn = await f.pool.connect(1);
    // deno-lint-ignore no-explicit-any
    const protocol = (conn as any).client._protocol;
    const names = () => [protocol._cipher.constructor.name, protocol._decipher.constructor.name];
    assert.deepEqual(names(), ["ChaChaPolySealer", "ChaChaPolyOpener"]);

    const echoed = async (mb: number) => {
      const tunnel = await f.pool.openTunnel(1, "echo");
      const sent = createHash("sha256"), got = createHash("sha256");
      let received = 0;
      const done = new Promise<void>((resolve) =>
        tunnel.on("data", (d: Buffer) => {
          got.update(d);
          if ((received += d.length) >= mb << 20) resolve();
        })
      );
      for (let i = 0; i < mb; i++) {
        const chunk = randomBytes(1 << 20);
        sent.update(chunk);
        if (!tunnel.write(chunk)) await new Promise((r) => tunnel.once("drain", r));
      }
      await done;
      tunnel.destroy();
      assert.equal(got.digest("hex"), sent.digest("hex"));
    };
    let cipher = protocol._cipher;
    await echoed(12);
    assert.notEqual(protocol._cipher, cipher, "sshd re-keyed during the transfer");
    assert.deepEqual(names(), ["ChaChaPolySealer", "ChaChaPolyOpener"]);
    // A re-key we start, then more data.
    cipher = protocol._cipher;
    protocol.rekey();
    assert.equal((await conn.exec("echo ok")).stdout, "ok\n");
    assert.notEqual(protocol._cipher, cipher, "our re-key made new ciphers");
    assert.deepEqual(names(), ["ChaChaPolySealer", "ChaChaPolyOpener"]);
    await echoed(4);
  } finally {
    await f.close();
    await sshd.close();
    echo.close();
  }
});
