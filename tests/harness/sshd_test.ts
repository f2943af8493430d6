import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
// @ts-types="npm:@types/ssh2@1.15.6"
import ssh2 from "ssh2";
import { connectClient, endClient, startSshd } from "./sshd.ts";
import { generateKeyPair } from "../../core/ssh/key_store.ts";

/** A valid pair in the shape ssh2 uses (generateKeyPair screens out ssh2's malformed ones). */
function sshKeyPair(): { private: string; public: string } {
  const k = generateKeyPair("test");
  return { private: k.privateKey, public: k.publicKey };
}

const clientKey = sshKeyPair();

/** Runs a command and returns its stdout. */
function exec(client: ssh2.Client, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, stream) => {
      if (err) return reject(err);
      let out = "";
      stream.on("data", (chunk: Buffer) => out += chunk.toString());
      stream.stderr.on("data", () => {});
      stream.on("close", () => resolve(out));
    });
  });
}

/** The raw blob of an OpenSSH public key line. */
function blobOf(line: string): Buffer {
  const key = ssh2.utils.parseKey(line);
  if (key instanceof Error) throw key;
  return (Array.isArray(key) ? key[0] : key).getPublicSSH();
}

Deno.test("runs a command, shows its host key, and restarts on the same port with the same key", async () => {
  const sshd = await startSshd({ authorizedKeys: [clientKey.public] });
  try {
    assert.match(sshd.hostPublicKey, /^ssh-ed25519 AAAA\S+$/);
    const seen: Buffer[] = [];
    const verify = (key: Uint8Array) => {
      seen.push(Buffer.from(key));
      return true;
    };
    const client = await connectClient(sshd, { privateKey: clientKey.private, hostVerifier: verify });
    assert.equal((await exec(client, "echo hello")).trim(), "hello");
    await endClient(client);
    assert.equal(seen.length, 1);
    assert.ok(seen[0].equals(blobOf(sshd.hostPublicKey)), "hostVerifier sees hostPublicKey");

    const port = sshd.port;
    const open = await connectClient(sshd, { privateKey: clientKey.private });
    const openClosed = new Promise<void>((resolve) => open.once("close", () => resolve()));
    open.on("error", () => {});
    await sshd.stop();
    await openClosed; // stop also ends the sessions sshd had open
    await assert.rejects(connectClient(sshd, { privateKey: clientKey.private }), /ECONNREFUSED/);

    await sshd.start();
    assert.equal(sshd.port, port);
    const again = await connectClient(sshd, { privateKey: clientKey.private, hostVerifier: verify });
    assert.equal((await exec(again, "echo again")).trim(), "again");
    await endClient(again);
    assert.equal(seen.length, 2);
    assert.ok(seen[1].equals(seen[0]), "same host key after restart");
    assert.match(await sshd.log(), new RegExp(`Accepted publickey for ${sshd.user}`));
  } finally {
    await sshd.close();
  }
  assert.equal(await Deno.stat(sshd.dir).then(() => true, () => false), false, "close removes the folder");
});

Deno.test("a key not in authorized_keys is refused; rewriting the file lets it in", async () => {
  const other = sshKeyPair();
  const sshd = await startSshd({ authorizedKeys: [clientKey.public] });
  try {
    await assert.rejects(
      connectClient(sshd, { privateKey: other.private }),
      /All configured authentication methods failed/,
    );
    await sshd.setAuthorizedKeys([clientKey.public, other.public]);
    assert.deepEqual(await sshd.readAuthorizedKeys(), [clientKey.public.trim(), other.public.trim()]);
    const client = await connectClient(sshd, { privateKey: other.private });
    await endClient(client);
  } finally {
    await sshd.close();
  }
});

Deno.test("permitopen allows forwarding to its port only", async () => {
  const echo = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const echoPort = (echo.addr as Deno.NetAddr).port;
  const serving = (async () => {
    for await (const conn of echo) {
      conn.readable.pipeTo(conn.writable).catch(() => {});
    }
  })();
  const sshd = await startSshd({
    authorizedKeys: [`restrict,port-forwarding,permitopen="127.0.0.1:${echoPort}" ${clientKey.public}`],
  });
  try {
    const client = await connectClient(sshd, { privateKey: clientKey.private });
    const forward = (port: number) =>
      new Promise<ssh2.ClientChannel>((resolve, reject) =>
        client.forwardOut("127.0.0.1", 0, "127.0.0.1", port, (err, ch) => err ? reject(err) : resolve(ch))
      );
    const channel = await forward(echoPort);
    const reply = await new Promise<string>((resolve) => {
      channel.once("data", (chunk: Buffer) => resolve(chunk.toString()));
      channel.write("ping");
    });
    assert.equal(reply, "ping");
    await new Promise<void>((resolve) => {
      channel.once("close", () => resolve());
      channel.close();
    });
    await assert.rejects(forward(echoPort + 1), /administratively prohibited|open failed/i);
    await endClient(client);
  } finally {
    await sshd.close();
    echo.close();
    await serving.catch(() => {});
  }
});
