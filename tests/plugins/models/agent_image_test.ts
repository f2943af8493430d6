import assert from "node:assert/strict";
import { chatPlugin } from "../../../plugins/chat/mod.tsx";
import { modelsPlugin } from "../../../plugins/models/mod.tsx";
import { ORIGIN } from "../../_helpers/harness.ts";
import { FAKE_MODEL_LOG, fakeModelRequests, fakeModelsChoice, startFakeModel } from "../../harness/agent_model.ts";
import { instanceWorld } from "../../harness/instance_world.ts";
import { until } from "../../harness/pool.ts";
import { ChatClient } from "../chat/_chat_client.ts";

Deno.test({
  name:
    "models and keys reach the real agent: global choice, key change, per-instance override, wrong key, missed while stopped",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const tag = crypto.randomUUID().slice(0, 6);
    const w = await instanceWorld(tag, () => [chatPlugin(), modelsPlugin()], `Models ${tag}`);
    const { admin, id } = w;
    const t = () => w.t;
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      (req, info) => t().app.fetch(req, info),
    );
    const clients: ChatClient[] = [];
    const refusals: string[] = [];
    const put = async (path: string, body: unknown) => {
      const res = await t().request("PUT", path, { cookie: admin, body });
      assert.equal(res.status, 200, await res.clone().text());
      return await res.json();
    };
    /** Follows a rollout to its end; returns its results. */
    const finished = async (rollout: { id: string }) => {
      let r: { state: string; results: { state: string; error: string | null }[] } = { state: "", results: [] };
      await until(
        async () => {
          r = await (await t().request("GET", `/api/v1/models/rollouts/${rollout.id}`, { cookie: admin })).json();
          return r.state === "done";
        },
        300_000,
        "the rollout to finish",
      );
      return r.results.map((x) => x.error ? `${x.state}: ${x.error}` : x.state);
    };
    /** A chat connected to the agent (a gateway still starting refuses; retried as the island does). */
    const ready = async () => {
      for (const deadline = Date.now() + 180_000; Date.now() < deadline;) {
        const c = new ChatClient(`ws://127.0.0.1:${server.addr.port}/api/v1/instances/${id}/chat`, {
          cookie: admin,
          origin: ORIGIN,
        });
        clients.push(c);
        await until(() => c.ready() || c.closed !== null, 60_000, "the chat to be ready or closed");
        if (c.ready()) return c;
        refusals.push(`${new Date().toISOString()} ${c.closed?.code} ${c.of("error").at(-1)?.message}`);
        await new Promise((r) => setTimeout(r, 1_000));
      }
      throw new Error(`the chat never became ready; its last closes: ${refusals.slice(-5).join("; ")}`);
    };
    /** Sends one message; returns the reply's text (or the error) and what the fake model was asked. */
    const ask = async (marker: string) => {
      const c = await ready();
      c.send({ type: "send", text: `Please answer ECHO-${marker}` });
      await until(() => c.of("final").length > 0 || c.of("error").length > 0, 180_000, `the reply to ${marker}`);
      const text = String(c.of("final")[0]?.text ?? c.of("error").at(-1)?.message ?? "");
      c.close();
      const asked = (await fakeModelRequests(t(), id)).filter((r) => r.said.includes(`ECHO-${marker}`));
      return { text, asked };
    };
    try {
      await startFakeModel(t(), id, ["global-key-1", "global-key-2", "own-key-3"]);

      // The admin's global choice: a custom OpenAI-compatible provider, its key, the default model.
      const first = await put(
        "/api/v1/models",
        fakeModelsChoice({ fake: "global-key-1", openai: "sk-openai-unused-0001" }, ["fake-model", "fake-other"]),
      );
      assert.deepEqual(await finished(first.rollout), ["applied"]);
      // The key is in the agent's private keys file, never in openclaw.json.
      const files = await t().services.ssh.exec(
        id,
        "cat ~/.openclaw/openclaw.json; echo; stat -c '%a %h' ~/.openclaw/claworc-keys.json; cat ~/.openclaw/claworc-keys.json",
      );
      assert.ok(!files.stdout.split("\n600 1\n")[0].includes("global-key-1"), "key in openclaw.json");
      assert.match(files.stdout, /\n600 1\n\{.*"fake":"global-key-1".*\}/, files.stdout);
      assert.match(files.stdout, /"primary": "fake\/fake-model"/);
      const one = await ask(`${tag}-1`);
      assert.equal(one.text, `Hello from the fake model (fake-model). Heard ECHO-${tag}-1.`);
      assert.ok(one.asked.length > 0 && one.asked.every((r) => r.auth === "Bearer global-key-1"), JSON.stringify(one));
      assert.ok(one.asked.every((r) => r.model === "fake-model"));

      // A new global key and default model reach the agent (OpenClaw keeps keys it was given in clear
      // in its own store; SecretRefs are re-read when the gateway restarts).
      const second = await put("/api/v1/models", { primary: "fake/fake-other", keys: { fake: "global-key-2" } });
      assert.deepEqual(await finished(second.rollout), ["applied"]);
      const two = await ask(`${tag}-2`);
      assert.equal(two.text, `Hello from the fake model (fake-other). Heard ECHO-${tag}-2.`);
      assert.ok(two.asked.length > 0 && two.asked.every((r) => r.auth === "Bearer global-key-2"), JSON.stringify(two));

      // The instance's own key and default model win over the global ones.
      const own = await put(`/api/v1/instances/${id}/models`, {
        primary: "fake/fake-model",
        keys: { fake: "own-key-3" },
      });
      assert.deepEqual(await finished(own.rollout), ["applied"]);
      const three = await ask(`${tag}-3`);
      assert.ok(
        three.asked.length > 0 && three.asked.every((r) => r.auth === "Bearer own-key-3"),
        JSON.stringify(three),
      );
      assert.ok(three.asked.every((r) => r.model === "fake-model"));
      const view = await (await t().request("GET", `/api/v1/instances/${id}/models`, { cookie: admin })).json();
      assert.equal(view.sync.state, "applied");
      assert.deepEqual(view.effective.keys, [{ provider: "openai", source: "global" }, {
        provider: "fake",
        source: "instance",
      }]);

      // A key the provider refuses: the chat says so plainly, without the key.
      const wrong = await put(`/api/v1/instances/${id}/models`, { keys: { fake: "wrong-key-4" } });
      assert.deepEqual(await finished(wrong.rollout), ["applied"]);
      const four = await ask(`${tag}-4`);
      assert.match(four.text, /401|api key|auth/i, four.text);
      assert.ok(!four.text.includes("wrong-key-4"));
      assert.ok(four.asked.some((r) => r.auth === "Bearer wrong-key-4"));

      // A change while the instance is stopped waits, and is applied when it connects again.
      const back = await put(`/api/v1/instances/${id}/models`, { keys: { fake: null } });
      assert.deepEqual(await finished(back.rollout), ["applied"]);
      const stop = await t().request("POST", `/api/v1/instances/${id}/stop`, { cookie: admin });
      assert.ok(stop.status < 300, await stop.text());
      await until(() => t().services.instances.get(id).status === "stopped", 120_000, "the instance to stop");
      const missed = await put("/api/v1/models", { keys: { fake: "global-key-1" } });
      assert.deepEqual(await finished(missed.rollout), ["waiting"]);
      assert.equal(
        (await (await t().request("GET", `/api/v1/instances/${id}/models`, { cookie: admin })).json()).sync.state,
        "pending",
      );
      const start = await t().request("POST", `/api/v1/instances/${id}/start`, { cookie: admin });
      assert.ok(start.status < 300, await start.text());
      await until(
        async () =>
          (await (await t().request("GET", `/api/v1/instances/${id}/models`, { cookie: admin })).json()).sync.state ===
            "applied",
        300_000,
        "the missed change to be applied after the start",
      );
      await startFakeModel(t(), id, ["global-key-1"]);
      const five = await ask(`${tag}-5`);
      assert.ok(
        five.asked.length > 0 && five.asked.every((r) => r.auth === "Bearer global-key-1"),
        JSON.stringify(five),
      );

      // Audited, without values; no key in any API answer or browser frame.
      const audit = await (await t().request("GET", "/api/v1/audit-logs?action=models.apply", { cookie: admin }))
        .text();
      assert.ok(audit.includes('"outcome":"success"'), audit.slice(0, 500));
      for (const key of ["global-key-1", "global-key-2", "own-key-3", "wrong-key-4", "sk-openai-unused-0001"]) {
        assert.ok(!audit.includes(key), `${key} in the audit log`);
        for (const c of clients) for (const f of c.raw) assert.ok(!f.includes(key), `${key} in a chat frame`);
        for (const path of ["/api/v1/models", `/api/v1/instances/${id}/models`]) {
          assert.ok(
            !(await (await t().request("GET", path, { cookie: admin })).text()).includes(key),
            `${key} in ${path}`,
          );
        }
      }
    } catch (e) {
      const log = await t().services.ssh.exec(
        id,
        `tail -n 40 /var/log/claworc/openclaw.log; tail -n 5 ${FAKE_MODEL_LOG}`,
      )
        .catch((e) => ({ stdout: `(no log: ${e.message})` }));
      console.error("gateway log:", log.stdout);
      console.error(
        "SSH events:",
        t().services.sshEvents.list(id, 30).map((e) =>
          `${e.at} ${e.type} ${e.to_state ?? ""} ${JSON.stringify(e.details)}`
        ),
      );
      throw e;
    } finally {
      for (const c of clients) c.close();
      await server.shutdown();
      await w.close();
    }
  },
});
