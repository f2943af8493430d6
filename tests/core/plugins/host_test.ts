import assert from "node:assert/strict";
import { definePlugin, type Plugin, type RuntimeBackend } from "../../../core/mod.ts";
import { builtinPlugins } from "../../../plugins/mod.ts";
import { testApp } from "../../_helpers/harness.ts";

function recorder(name: string, log: string[], extra: Partial<Plugin<"audit">> = {}) {
  return definePlugin({
    name,
    needs: ["audit"],
    setup(ctx) {
      log.push(`setup:${name}:${Object.keys(ctx.services).join(",")}`);
    },
    ready() {
      log.push(`ready:${name}`);
    },
    close() {
      log.push(`close:${name}`);
    },
    ...extra,
  });
}

Deno.test("plugins run setup and ready in order, close in reverse, and see only the services they need", async () => {
  const log: string[] = [];
  const t = await testApp({}, [recorder("one", log), recorder("two", log)]);
  await t.close();
  assert.deepEqual(log, ["setup:one:audit", "setup:two:audit", "ready:one", "ready:two", "close:two", "close:one"]);
});

Deno.test("a plugin's routes are mounted under its prefix, carry its policy and reach its services", async () => {
  const greeter = definePlugin({
    name: "greeter",
    needs: ["audit"],
    setup(ctx) {
      ctx.api("/greetings").add(
        { method: "POST", path: "", permission: "authenticated", summary: "Greet" },
        (c, { user }) => {
          ctx.services.audit.record({ actor: { id: user.id, name: user.username }, action: "greeter.greet" });
          return c.json({ hello: user.username });
        },
      );
      ctx.healthCheck("always", () => true);
    },
  });
  const t = await testApp({}, [...builtinPlugins(), greeter]);
  try {
    const admin = await t.setupAdmin();
    assert.equal((await t.request("POST", "/api/v1/greetings")).status, 401);
    const res = await t.request("POST", "/api/v1/greetings", { cookie: admin });
    assert.deepEqual(await res.json(), { hello: "admin" });
    assert.equal(t.services.audit.query({ action: "greeter.greet", limit: 1, offset: 0 }).total, 1);
    const route = t.registry.find("POST", "/api/v1/greetings");
    assert.equal(route?.plugin, "greeter");
    assert.equal(route?.permission, "authenticated");
    const health = await (await t.request("GET", "/health")).json();
    assert.equal(health.checks["greeter.always"], true);
  } finally {
    await t.close();
  }
});

const GAUGE = { type: "gauge", help: "A test gauge.", samples: () => [] } as const;

Deno.test("a plugin's metric families appear in /metrics with escaped labels, read at each scrape", async () => {
  let queued = 3;
  const meter = definePlugin({
    name: "meter",
    needs: [],
    setup(ctx) {
      ctx.metric({
        name: "claworc_meter_queued",
        type: "gauge",
        help: "Jobs queued.\nPer C:\\queue.",
        samples: () => [{ value: queued }, { labels: { queue: 'say "hi"\\' }, value: 1 }],
      });
    },
  });
  const t = await testApp({}, [...builtinPlugins(), meter]);
  try {
    const admin = await t.setupAdmin();
    const scrape = async () => await (await t.request("GET", "/metrics", { cookie: admin })).text();
    let text = await scrape();
    assert.ok(text.includes("\n# HELP claworc_meter_queued Jobs queued.\\nPer C:\\\\queue.\n"), text);
    assert.match(text, /^# TYPE claworc_meter_queued gauge$/m);
    assert.match(text, /^claworc_meter_queued 3$/m);
    assert.ok(text.includes('claworc_meter_queued{queue="say \\"hi\\"\\\\"} 1'), text);
    assert.match(text, /^claworc_ssh_channels\{kind="pty"\} 0$/m);
    queued = 5;
    text = await scrape();
    assert.match(text, /^claworc_meter_queued 5$/m);
  } finally {
    await t.close();
  }
});

Deno.test("the host refuses bad names, duplicates, unknown needs and a stolen prefix", async () => {
  const bad: [Plugin[], RegExp][] = [
    [[{ name: "Bad Name", needs: [] }], /must match/],
    [[{ name: "dup", needs: [] }, { name: "dup", needs: [] }], /registered twice/],
    [[{ name: "greedy", needs: ["nope" as "audit"] }], /unknown service "nope"/],
    [[
      { name: "first", needs: [], setup: (ctx) => void ctx.api("/things") },
      { name: "second", needs: [], setup: (ctx) => void ctx.api("/things") },
    ], /already belongs to plugin "first"/],
    [
      [{ name: "meter", needs: [], setup: (ctx) => ctx.metric({ ...GAUGE, name: "claworc_other_x" }) }],
      /claworc_meter_/,
    ],
    [[{
      name: "meter",
      needs: [],
      setup: (ctx) => [1, 2].forEach(() => ctx.metric({ ...GAUGE, name: "claworc_meter_x" })),
    }], /added twice/],
  ];
  for (const [plugins, message] of bad) await assert.rejects(testApp({}, plugins), message);
});

Deno.test("a registered runtime backend is reported by /health", async () => {
  const backend = { name: "fake-engine" } as RuntimeBackend;
  const t = await testApp({}, [{ name: "engine", needs: [], setup: (ctx) => ctx.provideBackend(backend) }]);
  try {
    const res = await t.request("GET", "/health");
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      status: "healthy",
      database: "ok",
      backend: "fake-engine",
      version: "0.1.0",
      checks: {},
    });
  } finally {
    await t.close();
  }
});
