/**
 * A test host in its own network namespace, joined to this one by a veth pair, so a test can cut the
 * link (`down()`) the way a network failure would, without touching any real interface.
 */
export interface NetnsHost {
  name: string;
  /** The namespace side's address (where its servers listen). */
  address: string;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

async function ip(...args: string[]): Promise<void> {
  const out = await new Deno.Command("ip", { args, stdout: "null", stderr: "piped" }).output();
  if (!out.success) throw new Error(`ip ${args.join(" ")}: ${new TextDecoder().decode(out.stderr).trim()}`);
}

/** Creates namespace + veth with a /30 from 10.213.0.0/16 picked by `index` (0–16383). */
export async function netnsHost(index = Math.floor(Math.random() * 16_000)): Promise<NetnsHost> {
  const tag = `cw${index.toString(36)}${Date.now().toString(36).slice(-3)}`;
  const name = `claworc-${tag}`;
  const hostIf = `${tag}h`.slice(0, 15);
  const nsIf = `${tag}n`.slice(0, 15);
  const base = 4 * index;
  const net = `10.213.${(base >> 8) & 255}`;
  const hostAddr = `${net}.${(base & 255) + 1}`;
  const nsAddr = `${net}.${(base & 255) + 2}`;
  await ip("netns", "add", name);
  try {
    await ip("link", "add", hostIf, "type", "veth", "peer", "name", nsIf);
    await ip("link", "set", nsIf, "netns", name);
    await ip("addr", "add", `${hostAddr}/30`, "dev", hostIf);
    await ip("link", "set", hostIf, "up");
    await ip("-n", name, "addr", "add", `${nsAddr}/30`, "dev", nsIf);
    await ip("-n", name, "link", "set", nsIf, "up");
    await ip("-n", name, "link", "set", "lo", "up");
  } catch (e) {
    await ip("link", "del", hostIf).catch(() => {});
    await ip("netns", "del", name).catch(() => {});
    throw e;
  }
  return {
    name,
    address: nsAddr,
    down: () => ip("link", "set", hostIf, "down"),
    up: () => ip("link", "set", hostIf, "up"),
    async close() {
      await ip("link", "del", hostIf).catch(() => {});
      await ip("netns", "del", name).catch(() => {});
    },
  };
}
