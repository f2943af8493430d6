// A fake OpenAI-compatible model server, run with Node inside the agent container for tests:
//   node fake_model.mjs PORT LOG_FILE
// It records every request (path, Authorization, model, last user message) as a JSON line in LOG_FILE
// and answers POST /v1/chat/completions with SSE chunks: "Hello from the fake model (MODEL). Heard ECHO-x."
// where ECHO-x is the last such marker in the user's text. A request whose key is not one of the keys in
// the file KEYS_FILE (LOG_FILE + ".keys", one per line; any key when the file is missing) gets 401.
// A last user message containing "SLOW" streams a tick every 300 ms for a minute (to test abort).
import { appendFileSync, readFileSync } from "node:fs";
import { createServer } from "node:http";

const [port, log] = process.argv.slice(2);

function allowedKeys() {
  try {
    return readFileSync(`${log}.keys`, "utf8").split("\n").filter(Boolean);
  } catch {
    return null;
  }
}

/**
 * The last user text as the person typed it: OpenClaw adds user messages (or blocks) of its own
 * context, which are skipped.
 */
function lastUserText(messages) {
  const context = /<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>[\s\S]*?<<<END_OPENCLAW_INTERNAL_CONTEXT>>>/g;
  for (const m of [...(messages ?? [])].reverse()) {
    if (m.role !== "user") continue;
    const text = typeof m.content === "string"
      ? m.content
      : (m.content ?? []).map((p) => (p.type === "text" ? p.text : "")).join("");
    const typed = text.replace(context, "").trim();
    if (typed) return typed;
  }
  return "";
}

createServer((req, res) => {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    let json = {};
    try {
      json = JSON.parse(body || "{}");
    } catch { /* not JSON */ }
    const auth = req.headers.authorization ?? "";
    const said = lastUserText(json.messages);
    appendFileSync(log, JSON.stringify({ path: req.url, auth, model: json.model ?? null, said }) + "\n");
    if (req.method === "GET" && req.url.endsWith("/models")) {
      res.writeHead(200, { "content-type": "application/json" });
      return res.end(JSON.stringify({ object: "list", data: [{ id: json.model ?? "fake-model", object: "model" }] }));
    }
    const keys = allowedKeys();
    if (keys && !keys.includes(auth.replace(/^Bearer /, ""))) {
      res.writeHead(401, { "content-type": "application/json" });
      return res.end(JSON.stringify({
        error: { message: "Incorrect API key provided.", type: "invalid_request_error", code: "invalid_api_key" },
      }));
    }
    const model = json.model ?? "fake-model";
    const chunk = (delta, finish = null) =>
      `data: ${
        JSON.stringify({
          id: "chatcmpl-fake",
          object: "chat.completion.chunk",
          created: Math.floor(Date.now() / 1000),
          model,
          choices: [{ index: 0, delta, finish_reason: finish }],
        })
      }\n\n`;
    // OpenClaw decorates what the person typed (time, runtime notes), so the reply names only a marker.
    const marker = said.match(/\bECHO-[\w-]+/g)?.at(-1) ?? "nothing";
    const reply = `Hello from the fake model (${model}). Heard ${marker}.`;
    if (!json.stream) {
      res.writeHead(200, { "content-type": "application/json" });
      return res.end(JSON.stringify({
        id: "chatcmpl-fake",
        object: "chat.completion",
        created: Math.floor(Date.now() / 1000),
        model,
        choices: [{ index: 0, message: { role: "assistant", content: reply }, finish_reason: "stop" }],
        usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
      }));
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    res.write(chunk({ role: "assistant", content: "" }));
    if (said.includes("SLOW")) {
      let n = 0;
      const timer = setInterval(() => {
        if (res.destroyed || ++n > 200) {
          clearInterval(timer);
          if (!res.destroyed) res.end(chunk({}, "stop") + "data: [DONE]\n\n");
          return;
        }
        res.write(chunk({ content: `tick ${n}. ` }));
      }, 300);
      res.on("close", () => clearInterval(timer));
      return;
    }
    const parts = [reply.slice(0, 10), reply.slice(10, 30), reply.slice(30)];
    let i = 0;
    const next = () => {
      if (i < parts.length) {
        res.write(chunk({ content: parts[i++] }));
        setTimeout(next, 40);
      } else res.end(chunk({}, "stop") + "data: [DONE]\n\n");
    };
    next();
  });
}).listen(Number(port), "127.0.0.1");
