import assert from "node:assert/strict";
import { chatPlugin } from "../../../plugins/chat/mod.tsx";
import { ORIGIN } from "../../_helpers/harness.ts";
import {
  applyOpenclawConfigForTest,
  FAKE_MODEL_LOG,
  fakeModelRequests,
  fakeProvider,
  startFakeModel,
} from "../../harness/agent_model.ts";
import { instanceWorld } from "../../harness/instance_world.ts";
import { until } from "../../harness/pool.ts";
import { ChatClient } from "./_chat_client.ts";

const UPGRADE = { upgrade: "websocket", connection: "Upgrade", "sec-websocket-version": "13" };

Deno.test({
  name:
    "chat with the real OpenClaw gateway and a fake model: stream, history, abort, new session, errors, no token leak",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const tag = crypto.randomUUID().slice(0, 6);
    const w = await instanceWorld(tag, () => [chatPlugin({ recheckMs: 500 })], `Chat ${tag}`);
    const { t, admin, id } = w;
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req, info) => t.app.fetch(req, info));
    const clients: ChatClient[] = [];
    const open = (cookie = admin, origin = ORIGIN) => {
      const c = new ChatClient(`ws://127.0.0.1:${server.addr.port}/api/v1/instances/${id}/chat`, { cookie, origin });
      clients.push(c);
      return c;
    };
    /**
     * A chat that reached "ready". A gateway that is still starting refuses ("retry shortly") and the
     * socket closes with 1011, as the island then retries, so does this, for up to two minutes.
     */
    const ready = async () => {
      for (const deadline = Date.now() + 120_000; Date.now() < deadline;) {
        const c = open();
        await until(() => c.ready() || c.closed !== null, 60_000, "the chat to be ready or closed");
        if (c.ready()) return c;
        assert.equal(c.closed?.code, 1011);
        await new Promise((r) => setTimeout(r, 1_000));
      }
      throw new Error(
        `the chat never became ready: ${clients.at(-1)?.raw.join(" ")} ${JSON.stringify(clients.at(-1)?.closed)}`,
      );
    };
    try {
      await startFakeModel(t, id, ["good-key"]);
      await applyOpenclawConfigForTest(t, id, {
        gateway: { mode: "local", bind: "loopback", port: 18789 },
        models: { providers: { fake: fakeProvider("good-key") } },
        agents: { defaults: { model: { primary: "fake/fake-model" } } },
      });

      // A round trip: the message is echoed, phases and deltas stream, the final text arrives.
      const a = await ready();
      assert.deepEqual(a.of("history")[0], { type: "history", messages: [] });
      a.send({ type: "send", text: `Say hello ECHO-${tag}` });
      await until(() => a.of("final").length === 1, 120_000, "the final reply");
      assert.deepEqual(a.of("user").map((f) => f.text), [`Say hello ECHO-${tag}`]);
      assert.ok(a.of("status").length > 0, "phases were shown");
      assert.ok(a.of("delta").length > 1, "the reply streamed in several deltas");
      const final = a.of("final")[0];
      assert.equal(final.text, `Hello from the fake model (fake-model). Heard ECHO-${tag}.`);
      assert.equal(a.of("delta").at(-1)?.text, final.text);
      const asked = await fakeModelRequests(t, id);
      assert.ok(
        asked.some((r) => r.said.includes(`ECHO-${tag}`) && r.auth === "Bearer good-key" && r.model === "fake-model"),
      );

      // A reload: the conversation comes back from the gateway.
      a.close();
      const b = await ready();
      const history = b.of("history")[0].messages as { role: string; text: string }[];
      assert.deepEqual(history.map((m) => m.role), ["user", "assistant"]);
      assert.ok(history[0].text.includes(`Say hello ECHO-${tag}`), history[0].text);
      assert.equal(history[1].text, final.text);

      // Abort: a long reply stops when asked ("/stop" works like the Stop button).
      b.send({ type: "send", text: `SLOW story ${tag}` });
      await until(() => b.of("delta").some((d) => String(d.text).includes("tick 2.")), 120_000, "the slow reply");
      b.send({ type: "send", text: "/stop" });
      await until(() => b.of("aborted").length === 1 || b.of("final").length === 1, 30_000, "the abort");
      assert.equal(b.of("aborted").length, 1, `aborted, not finished: ${JSON.stringify(b.of("final"))}`);
      assert.ok(!String(b.of("delta").at(-1)?.text).includes("tick 150."), "it stopped early");

      // New session: the conversation starts over (also after a reload).
      b.send({ type: "new_session" });
      await until(() => b.of("reset").length === 1, 30_000, "the reset").catch((e) => {
        throw new Error(`${e.message}: ${JSON.stringify(b.of("error"))}`);
      });
      b.close();
      const c = await ready();
      assert.deepEqual(c.of("history")[0].messages, []);

      // The provider stops accepting the key: the chat says so, readably.
      await t.services.ssh.exec(id, `printf 'some-other-key\\n' > ${FAKE_MODEL_LOG}.keys`);
      const d = await ready();
      d.send({ type: "send", text: `Anyone there ECHO-${tag}-2?` });
      await until(() => d.of("error").length > 0 || d.of("final").length > 0, 120_000, "the failed run");
      const failure = String(d.of("error").at(-1)?.message ?? d.of("final").at(-1)?.text ?? "");
      assert.match(failure, /401|api key|auth/i, failure);
      assert.ok(!failure.includes("good-key"), "the key itself is not shown");

      // Refusals: another site's page, and a user not assigned to the instance.
      const evil = open(admin, "http://evil.test");
      await until(() => evil.closed !== null, 10_000, "the cross-site socket to fail");
      assert.equal(evil.opened, false);
      await t.createUser(admin, "stranger");
      const stranger = await t.login("stranger", "stranger-password-1");
      const refused = await t.request("GET", `/api/v1/instances/${id}/chat`, {
        cookie: stranger,
        headers: { ...UPGRADE, "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==" },
      });
      assert.equal(refused.status, 403);

      // The gateway token never reached a browser frame or an API answer.
      const gatewayToken = await t.services.secrets.decrypt(t.services.instances.gatewayToken(id));
      assert.ok(gatewayToken.length >= 32);
      for (const client of clients) {
        for (const f of client.raw) assert.ok(!f.includes(gatewayToken), "token in a frame");
      }
      for (const path of [`/api/v1/instances/${id}`, "/api/v1/instances", `/api/v1/instances/${id}/ssh-status`]) {
        const body = await (await t.request("GET", path, { cookie: admin })).text();
        assert.ok(!body.includes(gatewayToken), `token in ${path}`);
      }
      const page = await (await t.request("GET", `/instances/${id}/chat`, { cookie: admin })).text();
      assert.ok(page.includes('data-island="chat_panel"') && !page.includes(gatewayToken));

      const audit = t.services.audit.query({ limit: 200, offset: 0 }).entries.map((e) => e.action);
      for (const action of ["chat.open", "chat.send", "chat.abort", "chat.reset"]) {
        assert.ok(audit.includes(action), action);
      }
    } finally {
      for (const c of clients) c.close();
      await server.shutdown();
      await w.close();
    }
  },
});
