import assert from "node:assert/strict";
import { gatewayError } from "../../../plugins/chat/gateway_client.ts";
import { clientMessage, commandOf, historyOf, textOf, translate } from "../../../plugins/chat/protocol.ts";

const FIXTURE = new URL("../../fixtures/openclaw/gateway-2026.9.6-chat-roundtrip.jsonl", import.meta.url);
const SESSION = "agent:main:main";

/** Every frame of a real gateway exchange (OpenClaw 2026.9.6: connect, one chat turn, history). */
async function recorded() {
  const text = await Deno.readTextFile(FIXTURE);
  return text.trim().split("\n").map((l) => JSON.parse(l) as { dir: string; frame: Record<string, unknown> });
}

Deno.test("the recorded gateway exchange translates into the browser protocol: phases, deltas, final", async () => {
  const events = (await recorded())
    .filter((r) => r.dir === "<<" && r.frame.type === "event")
    .map((r) => ({ event: r.frame.event as string, payload: r.frame.payload as Record<string, unknown> }));
  const out = events.map((e) => translate(e, SESSION)).filter((m) => m !== null);
  assert.deepEqual(out.filter((m) => m.type === "status").map((m) => m.type === "status" && m.phase), [
    "preparing_workspace",
    "preparing_context",
    "starting_model",
  ]);
  const deltas = out.filter((m) => m.type === "delta");
  assert.deepEqual(deltas.map((m) => m.type === "delta" && m.delta), ["Hello fr", "om the fake model. PROBE-OK"]);
  assert.equal(deltas.at(-1)?.type === "delta" && deltas.at(-1)?.text, "Hello from the fake model. PROBE-OK");
  const final = out.at(-1)!;
  assert.deepEqual(final, {
    type: "final",
    run_id: "ddf8664d-9aed-4855-86ee-a85a6dcf2ceb",
    text: "Hello from the fake model. PROBE-OK",
    stop_reason: "stop",
  });
  // Nothing of another session passes, and frames the browser has no use for (health, presence...) are dropped.
  assert.equal(events.map((e) => translate(e, "agent:other:main")).filter(Boolean).length, 0);
  assert.ok(events.some((e) => e.event === "health") && !out.some((m) => JSON.stringify(m).includes("plugins")));
});

Deno.test("chat.history's answer becomes the visible user and assistant turns", async () => {
  const res = (await recorded()).find((r) => r.frame.type === "res" && r.frame.id === "3")!;
  const history = historyOf(res.frame.payload as Record<string, unknown>);
  assert.deepEqual(history.map((m) => [m.role, m.text]), [
    ["user", "Say hello (probe)."],
    ["assistant", "Hello from the fake model. PROBE-OK"],
  ]);
  assert.ok(history.every((m) => typeof m.timestamp === "number"));
});

Deno.test("failed runs read well; tool events become a status; commands and bad frames are recognised", () => {
  const err = translate({
    event: "chat",
    payload: {
      sessionKey: SESSION,
      runId: "r1",
      state: "error",
      errorMessage: "The model provider refused the request.",
      errorDetail: { provider: "fake", model: "m1", httpStatus: 401, providerErrorMessagePreview: "bad api key" },
    },
  }, SESSION);
  assert.deepEqual(err, {
    type: "error",
    run_id: "r1",
    message: "The model provider refused the request. (fake/m1, HTTP 401) — bad api key",
  });
  assert.deepEqual(
    translate(
      { event: "agent", payload: { sessionKey: SESSION, runId: "r1", stream: "tool", data: { name: "web" } } },
      SESSION,
    ),
    { type: "status", run_id: "r1", phase: "tool: web" },
  );
  assert.equal(
    textOf({ content: [{ type: "text", text: "a" }, { type: "image" }, { type: "text", text: "b" }] }),
    "ab",
  );
  assert.equal(commandOf(" /STOP "), "abort");
  assert.equal(commandOf("/new"), "new_session");
  assert.equal(commandOf("/reset"), "new_session");
  assert.equal(commandOf("/stopping now"), null);
  assert.equal(clientMessage.safeParse({ type: "send", text: "   " }).success, false);
  assert.equal(clientMessage.safeParse({ type: "send", text: "x".repeat(100_001) }).success, false);
  assert.equal(clientMessage.safeParse({ type: "send", text: "hi", extra: 1 }).success, false);
  assert.equal(clientMessage.safeParse({ type: "raw", frame: {} }).success, false);
});

Deno.test("gateway refusals read well and never echo the request", () => {
  assert.equal(
    gatewayError({ code: "UNAVAILABLE", message: "gateway starting; retry shortly" }).message,
    "The agent's gateway is still starting; retrying shortly.",
  );
  assert.match(gatewayError({ code: "FORBIDDEN", message: "missing scope" }).message, /credentials \(FORBIDDEN\)/);
  assert.equal(gatewayError({ code: "INVALID_REQUEST", message: "bad" }).message, "The agent refused: bad");
  assert.equal(gatewayError(undefined).message, "The agent refused: The gateway refused the request.");
});
