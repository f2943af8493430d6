import assert from "node:assert/strict";
import { testApp } from "../_helpers/harness.ts";

const TOKEN = "metrics-token-0123456789abcdef0123456789";

Deno.test("GET /metrics: Prometheus text for admins or the scraper's bearer token, nobody else", async () => {
  const t = await testApp({ CLAWORC_METRICS_TOKEN: TOKEN });
  try {
    const admin = await t.setupAdmin();
    const a = t.services.instances.insert("bot-a", "A");
    t.services.instances.insert("bot-b", "B");
    t.services.instances.setStatus(a.id, "running");
    t.services.sshEvents.record(a.id, "reconnecting", { attempt: 1 });
    await t.request("GET", "/api/v1/instances", { cookie: admin });

    const scraped = await t.request("GET", "/metrics", { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(scraped.status, 200);
    assert.match(scraped.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    const text = await scraped.text();
    assert.match(text, /^# TYPE claworc_instances gauge$/m);
    assert.match(text, /^claworc_instances\{status="running"\} 1$/m);
    assert.match(text, /^claworc_instances\{status="creating"\} 1$/m);
    assert.match(text, /^claworc_ssh_connections\{state="disconnected"\} 2$/m);
    assert.match(text, /^claworc_ssh_events_total\{type="reconnecting"\} 1$/m);
    assert.match(text, /^claworc_http_requests_total\{method="GET",code="2xx"\} \d+$/m);
    assert.match(text, /^claworc_ssh_probe_latency_ms\{quantile="0\.99"\} 0$/m, "no probes yet");
    assert.match(text, /^claworc_ssh_probe_overdue 0$/m);
    const rss = Number(/^process_resident_memory_bytes (\d+)$/m.exec(text)?.[1]);
    assert.ok(rss > 10e6 && rss < 4e9, `rss ${rss}`);

    assert.equal((await t.request("GET", "/metrics", { cookie: admin })).status, 200, "admins may read it");
    for (const authorization of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(1)}`, `Basic ${TOKEN}`, TOKEN]) {
      const res = await t.request("GET", "/metrics", { headers: { authorization } });
      assert.equal(res.status, 401, authorization);
      await res.body?.cancel();
    }
    await t.createUser(admin, "ursula");
    const user = await t.login("ursula", "ursula-password-1");
    assert.equal((await t.request("GET", "/metrics", { cookie: user })).status, 403);
  } finally {
    await t.close();
  }
});

Deno.test("without a configured token only admins read /metrics, and a short token is refused at start", async () => {
  const t = await testApp();
  try {
    const res = await t.request("GET", "/metrics", { headers: { authorization: "Bearer " } });
    assert.equal(res.status, 401);
    await res.body?.cancel();
  } finally {
    await t.close();
  }
  await assert.rejects(testApp({ CLAWORC_METRICS_TOKEN: "short" }), /CLAWORC_METRICS_TOKEN.*32 characters/);
});

Deno.test("GET /metrics reports event-loop lag: a blocked loop shows up in the max and the 0.99 quantile", async () => {
  const t = await testApp();
  try {
    const admin = await t.setupAdmin();
    t.services.loopLag.start();
    await new Promise((r) => setTimeout(r, 250));
    const until = performance.now() + 300;
    while (performance.now() < until) { /* block the event loop for 300 ms */ }
    await new Promise((r) => setTimeout(r, 250));
    const text = await (await t.request("GET", "/metrics", { cookie: admin })).text();
    const max = Number(/^claworc_event_loop_lag_ms\{quantile="max"\} ([\d.]+)$/m.exec(text)?.[1]);
    assert.ok(max >= 200 && max < 2_000, `max lag ${max} ms`);
    assert.match(text, /^claworc_event_loop_lag_ms\{quantile="0\.99"\} [\d.]+$/m);
  } finally {
    t.services.loopLag.stop();
    await t.close();
  }
});
