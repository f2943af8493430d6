/**
 * The chat socket leaves nothing behind (see `tests/plugins/resource_leaks_test.ts` for why), against
 * the real OpenClaw gateway of an agent-image instance under Podman with the fake model answering
 * (`tests/harness/instance_world.ts`, `agent_model.ts`). After a warm-up round, rounds of chat sockets
 * through a real server (`Deno.serve` on loopback) must bring Deno's resource table back to its size,
 * and with it what the table does not see: SSH channels (each socket's gateway client holds a
 * direct-tcpip one), the plugin's chat rooms (`claworc_chat_sockets`) and intervals (each socket
 * re-checks its sign-in on one). The world's SSH probes open short-lived channels now and then;
 * `settledHold` and `assertHoldsNoMore` see through those.
 */
import assert from "node:assert/strict";
import { chatPlugin } from "../../../plugins/chat/mod.tsx";
import { ORIGIN } from "../../_helpers/harness.ts";
import {
  abandonedHandshake,
  assertHoldsNoMore,
  clearIntervalsSince,
  type Counters,
  liveIntervals,
  openSshChannels,
  settledHold,
} from "../../_helpers/leak_check.ts";
import { applyOpenclawConfigForTest, fakeProvider, startFakeModel } from "../../harness/agent_model.ts";
import { type InstanceWorld, instanceWorld } from "../../harness/instance_world.ts";
import { podmanTest } from "../../harness/podman_available.ts";
import { until } from "../../harness/pool.ts";
import { ChatClient } from "./_chat_client.ts";

const intervals = liveIntervals();
const ROUNDS = 5;
/** How long the counts may take to come back after the rounds (closes complete asynchronously). */
const SETTLE_MS = 5_000;
const WAIT_MS = 30_000;
/** The fake model's reply, as the agent image test waits for it (a cold agent can take a while). */
const REPLY_MS = 120_000;

function counters(w: InstanceWorld): Counters {
  const sockets = w.t.host.metrics.find((m) => m.name === "claworc_chat_sockets");
  assert.ok(sockets, "the chat plugin's socket gauge");
  return {
    "open SSH channels": openSshChannels(w.t.services.ssh),
    "chat sockets (room members)": () => sockets.samples()[0].value,
    "live intervals": () => intervals.size,
  };
}

Deno.test({
  name:
    "resources: chat sockets with the real gateway (a reply, a close while connecting, a client gone) leave nothing",
  ...podmanTest,
  async fn() {
    const tag = crypto.randomUUID().slice(0, 6);
    const w = await instanceWorld(tag, () => [chatPlugin({ recheckMs: 500 })], `Chat leaks ${tag}`);
    const ac = new AbortController();
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen() {} },
      (req, info) => w.t.app.fetch(req, info),
    );
    const url = `ws://127.0.0.1:${server.addr.port}/api/v1/instances/${w.id}/chat`;
    const clients: ChatClient[] = [];
    const open = () => {
      const c = new ChatClient(url, { cookie: w.admin, origin: ORIGIN });
      clients.push(c);
      return c;
    };
    const closed = async (c: ChatClient) => {
      c.close();
      await until(() => c.closed !== null, WAIT_MS, "the chat socket to close");
    };
    /** A chat that reached "ready"; a gateway still starting refuses (1011), and the island retries. */
    const ready = async () => {
      for (const deadline = Date.now() + 120_000; Date.now() < deadline;) {
        const c = open();
        await until(() => c.ready() || c.closed !== null, 60_000, "the chat to be ready or closed");
        if (c.ready()) return c;
        assert.equal(c.closed?.code, 1011);
        await new Promise((r) => setTimeout(r, 1_000));
      }
      throw new Error(`the chat never became ready: ${clients.at(-1)?.raw.join(" ")}`);
    };

    const round = async (n: number) => {
      // 1. A message and the fake model's reply, then the browser closes.
      const a = await ready();
      const text = `Say hello ECHO-${tag}-${n}`;
      a.send({ type: "send", text });
      await until(() => a.of("final").length === 1 || a.of("error").length > 0, REPLY_MS, `round ${n}'s reply`);
      assert.deepEqual(a.of("error"), []);
      assert.equal(a.of("final")[0].text, `Hello from the fake model (fake-model). Heard ECHO-${tag}-${n}.`);
      assert.deepEqual(a.of("user").map((f) => f.text), [text]);
      await closed(a);

      // 2. The browser closes as soon as it is told "connecting": its gateway client is still being
      //    connected (then closed once connected), or has just been.
      const b = open();
      await until(() => b.of("state").length > 0 || b.closed !== null, WAIT_MS, "the connecting state");
      await closed(b);

      // 3. A browser that leaves right after its handshake (the chat upgrades at once, so Deno opens the
      //    socket and then fails it).
      await abandonedHandshake(server.addr.port, `/api/v1/instances/${w.id}/chat`, { origin: ORIGIN, cookie: w.admin });
    };

    const held = new Set(intervals);
    try {
      await startFakeModel(w.t, w.id, ["good-key"]);
      await applyOpenclawConfigForTest(w.t, w.id, {
        gateway: { mode: "local", bind: "loopback", port: 18789 },
        models: { providers: { fake: fakeProvider("good-key") } },
        agents: { defaults: { model: { primary: "fake/fake-model" } } },
      });
      await round(0); // warm-up
      const base = await settledHold(counters(w));
      for (let n = 1; n <= ROUNDS; n++) await round(n);
      await assertHoldsNoMore(
        base,
        `${ROUNDS} rounds of a chat with a reply, a chat closed while connecting and a handshake left early`,
        counters(w),
        SETTLE_MS,
      );
      const sends = w.t.services.audit.query({ action: "chat.send", limit: 100, offset: 0 }).total;
      assert.equal(sends, ROUNDS + 1);
    } catch (e) {
      clearIntervalsSince(held);
      throw e;
    } finally {
      for (const c of clients) c.close();
      ac.abort();
      // Not awaited for good: an upgrade whose client left can keep Deno's shutdown waiting.
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([server.finished, new Promise((r) => timer = setTimeout(r, 5_000))]);
      clearTimeout(timer);
      await w.close();
    }
  },
});
