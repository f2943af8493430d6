import assert from "node:assert/strict";
import { fromOption, parseSourceIps } from "../../../core/ssh/source_ips.ts";
import { connectClient, endClient, startSshd } from "../../harness/sshd.ts";
import { generateKeyPair } from "../../../core/ssh/key_store.ts";

/** A valid pair in the shape ssh2 uses (generateKeyPair screens out ssh2's malformed ones). */
function sshKeyPair(): { private: string; public: string } {
  const k = generateKeyPair("test");
  return { private: k.privateKey, public: k.publicKey };
}

const key = sshKeyPair();

/** An authorized_keys line limited to the given sources. */
function line(sources: string[]): string {
  return `from="${fromOption(parseSourceIps(sources))}" ${key.public.trim()}`;
}

Deno.test("a real sshd enforces the from= option built by fromOption", async () => {
  const sshd = await startSshd({ authorizedKeys: [line(["127.0.0.2"])] });
  const connect = (localAddress: string) => connectClient(sshd, { privateKey: key.private, localAddress });
  try {
    await assert.rejects(connect("127.0.0.1"), /All configured authentication methods failed/);
    assert.match(
      await sshd.log(),
      /not from a permitted host \(host=127\.0\.0\.1, ip=127\.0\.0\.1, required=127\.0\.0\.2\)/,
    );
    await endClient(await connect("127.0.0.2"));

    await sshd.setAuthorizedKeys([line(["127.0.0.0/30"])]);
    await endClient(await connect("127.0.0.1"));
    await endClient(await connect("127.0.0.3"));
    await assert.rejects(connect("127.0.0.4"), /All configured authentication methods failed/);

    await sshd.setAuthorizedKeys([line(["10.0.0.0/8", "127.0.0.5", "2001:db8::/32"])]);
    await endClient(await connect("127.0.0.5"));
    await assert.rejects(connect("127.0.0.6"), /All configured authentication methods failed/);
  } catch (err) {
    console.error(await sshd.log());
    throw err;
  } finally {
    await sshd.close();
  }
});
