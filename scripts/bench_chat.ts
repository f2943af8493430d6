/**
 * Chat row of `deno task bench`: time to the first streamed delta of a reply, through the control
 * plane's chat WebSocket (a client in this process → the route → its gateway client → the tunnel →
 * OpenClaw) versus a gateway client of our own on the same instance's tunnel (no chat route between).
 * The instance is the real agent image in Podman with the fake model (tests/harness/fake_model.mjs), so
 * the model's own time is the same for both. Runs alternate between the two.
 */
import { GatewayClient } from "../plugins/chat/gateway_client.ts";
import { chatPlugin } from "../plugins/chat/mod.tsx";
import { ORIGIN } from "../tests/_helpers/harness.ts";
import { applyOpenclawConfigForTest, fakeProvider, startFakeModel } from "../tests/harness/agent_model.ts";
import { instanceWorld } from "../tests/harness/instance_world.ts";
import { until } from "../tests/harness/pool.ts";
import { ChatClient } from "../tests/plugins/chat/_chat_client.ts";
import type { BenchRow } from "./bench_ssh.ts";

const RUNS = Number(Deno.env.get("BENCH_CHAT_RUNS") ?? 8);
const SESSION = "agent:main:main";
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function chatBench(): Promise<BenchRow[]> {
  const tag = crypto.randomUUID().slice(0, 6);
  const w = await instanceWorld(tag, () => [chatPlugin()], `Bench chat ${tag}`);
  const { t, admin, id } = w;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req, info) => t.app.fetch(req, info));
  try {
    await startFakeModel(t, id);
    await applyOpenclawConfigForTest(t, id, {
      gateway: { mode: "local", bind: "loopback", port: 18789 },
      models: { providers: { fake: fakeProvider("bench-key") } },
      agents: { defaults: { model: { primary: "fake/fake-model" } } },
    });
    // Ours: the chat route, reconnecting while the gateway still starts.
    let chat: ChatClient | null = null;
    await until(
      async () => {
        chat?.close();
        chat = new ChatClient(`ws://127.0.0.1:${server.addr.port}/api/v1/instances/${id}/chat`, {
          cookie: admin,
          origin: ORIGIN,
        });
        const c = chat;
        await until(() => c.ready() || c.closed !== null, 60_000, "the chat");
        return c.ready();
      },
      180_000,
      "a ready chat",
    );
    const ours = chat!;
    const direct = await GatewayClient.connect(t.services, id);
    let directFirst: (() => void) | null = null;
    direct.onEvent((e) => {
      if (e.event === "chat" && e.payload.state === "delta" && e.payload.sessionKey === SESSION) directFirst?.();
    });
    const viaChat: number[] = [];
    const viaGateway: number[] = [];
    /** The session settles between runs (a send right after a final can queue behind its wind-down). */
    const settle = () => new Promise((r) => setTimeout(r, 1_500));
    for (let i = 0; i < RUNS + 1; i++) {
      await settle();
      // Ours.
      const before = ours.of("delta").length, finals = ours.of("final").length;
      let t0 = performance.now();
      ours.send({ type: "send", text: `bench ${i} ECHO-b${i}` });
      await until(() => ours.of("delta").length > before, 60_000, "the first delta (chat)");
      const a = performance.now() - t0;
      await until(() => ours.of("final").length > finals, 60_000, "the reply to end (chat)");
      // Direct.
      await settle();
      const first = new Promise<void>((resolve) => directFirst = resolve);
      t0 = performance.now();
      const ended = new Promise<void>((resolve) => {
        const stop = direct.onEvent((e) => {
          if (e.event === "chat" && e.payload.state === "final") (stop(), resolve());
        });
      });
      await direct.request("chat.send", {
        sessionKey: SESSION,
        message: `bench d${i}`,
        idempotencyKey: crypto.randomUUID(),
      });
      await first;
      const b = performance.now() - t0;
      await ended;
      if (i > 0) (viaChat.push(a), viaGateway.push(b)); // the first round warms both paths up
    }
    direct.close();
    ours.close();
    const [m1, m2] = [median(viaChat), median(viaGateway)];
    return [{
      metric: `Chat time to first delta, median of ${RUNS} (fake model in the instance)`,
      value: `${m1.toFixed(0)} ms`,
      peer: `${m2.toFixed(0)} ms direct gateway client`,
      ratio: `${(m1 / m2).toFixed(2)}×`,
      goal: "≤ 1.1×",
    }];
  } finally {
    await server.shutdown();
    await w.close();
  }
}
