import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { TcpSocket } from "../../../core/ssh/tcp_socket.ts";

/** A TCP server on loopback that hands each accepted connection to `handle`. */
function server(handle: (conn: Deno.TcpConn) => Promise<void>) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const done: Promise<void>[] = [];
  (async () => {
    for await (const conn of listener) {
      done.push(
        handle(conn).catch(() => {}).finally(() => {
          try {
            conn.close();
          } catch { /* the handler closed it */ }
        }),
      );
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    async close() {
      listener.close();
      await Promise.all(done);
    },
  };
}

const echo = async (conn: Deno.TcpConn) => {
  await conn.readable.pipeTo(conn.writable, { preventClose: false }).catch(() => {});
};

function collect(sock: TcpSocket, bytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let got = 0;
  return new Promise((resolve, reject) => {
    sock.on("data", (d: Buffer) => {
      chunks.push(d);
      got += d.length;
      if (got >= bytes) resolve(Buffer.concat(chunks));
    });
    sock.once("error", reject);
  });
}

Deno.test("TCP socket: 16 MB both ways arrive byte-exact; the read buffer grows for bulk and shrinks when quiet", async () => {
  const s = server(echo);
  const sock = await TcpSocket.connect("127.0.0.1", s.port, { timeoutMs: 5_000, largeIdleMs: 200 });
  try {
    assert.equal(sock.localAddress, "127.0.0.1");
    sock.setNoDelay(true);
    const small = collect(sock, 5);
    sock.write("hello");
    assert.equal((await small).toString(), "hello");
    assert.equal(sock.readBufferBytes, 4096, "a quiet connection reads into 4 KiB");
    sock.removeAllListeners("data");

    const payload = crypto.getRandomValues(new Uint8Array(65536));
    const big = Buffer.concat(Array.from({ length: 256 }, (_, i) => Buffer.from(payload.map((b) => b ^ i))));
    const back = collect(sock, big.length);
    for (let at = 0; at < big.length; at += 1 << 20) sock.write(big.subarray(at, at + (1 << 20)));
    const received = await back;
    assert.equal(received.length, big.length);
    assert.equal(createHash("sha256").update(received).digest("hex"), createHash("sha256").update(big).digest("hex"));
    assert.equal(sock.readBufferBytes, 65536, "a bulk transfer reads into 64 KiB");
    sock.removeAllListeners("data");

    await new Promise((r) => setTimeout(r, 300));
    const again = collect(sock, 2);
    sock.write("hi");
    await again;
    assert.equal(sock.readBufferBytes, 4096, "quiet again: back to 4 KiB");
  } finally {
    sock.destroy();
    await s.close();
  }
});

Deno.test("TCP socket: the peer closing ends and closes it; destroying it closes the connection", async () => {
  const first = server(async (conn) => {
    await conn.write(new TextEncoder().encode("bye"));
  });
  const a = await TcpSocket.connect("127.0.0.1", first.port, { timeoutMs: 5_000 });
  const text = collect(a, 3);
  const closed = new Promise((r) => a.once("close", r));
  const ended = new Promise((r) => a.once("end", r));
  assert.equal((await text).toString(), "bye");
  await ended;
  await closed;
  await first.close();

  let sawEof = false;
  const second = server(async (conn) => {
    sawEof = (await conn.read(new Uint8Array(16))) === null;
  });
  const b = await TcpSocket.connect("127.0.0.1", second.port, { timeoutMs: 5_000 });
  await new Promise((r) => setTimeout(r, 50));
  b.destroy();
  await second.close();
  assert.ok(sawEof, "the server saw the connection end");
});

Deno.test("TCP socket: a refused connection rejects", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  await assert.rejects(TcpSocket.connect("127.0.0.1", port, { timeoutMs: 5_000 }), /refused/i);
});

Deno.test("TCP socket: writes queued behind a pending one arrive in order, byte-exact, joined in a reused buffer", async () => {
  // Sizes around everything _writev treats differently: tiny, sealed-packet sized, past the staging
  // buffer's end, and larger than the whole staging buffer.
  const sizes = [3, 100, 32 * 1024 + 20, 32 * 1024 + 20, 200_000, 70_000, 1, 300_000, 5, 32 * 1024 + 20, 600_000, 7];
  const chunks = sizes.map((n, i) => {
    const c = new Uint8Array(n);
    for (let j = 0; j < n; j++) c[j] = (i * 31 + j) & 0xff;
    return c;
  });
  const expected = Buffer.concat(chunks);
  let received: Buffer | null = null;
  const srv = server(async (conn) => {
    const parts: Uint8Array[] = [];
    for await (const part of conn.readable) parts.push(part);
    received = Buffer.concat(parts);
  });
  const sock = await TcpSocket.connect("127.0.0.1", srv.port, { timeoutMs: 5_000 });
  assert.equal(sock.stagingBufferBytes, 0, "no staging buffer before anything queued");
  // Written in one go: the first goes out at once, the rest queue behind it and reach _writev.
  for (const c of chunks) sock.write(c);
  await new Promise<void>((resolve) => sock.end(resolve));
  assert.equal(sock.stagingBufferBytes, 256 * 1024, "the queued chunks went through the staging buffer");
  // The caller's buffers are untouched.
  assert.deepEqual(Buffer.concat(chunks), expected);
  await srv.close();
  assert.equal(received!.length, expected.length);
  assert.ok(received!.equals(expected), "the bytes arrived in order");
});
