import assert from "node:assert/strict";
import { startKubeDouble } from "./double.ts";
import { clients, eventually, k8s } from "./test_client.ts";

const NS = "claworc";

interface Seen {
  type: string;
  object: {
    kind?: string;
    metadata?: { name?: string; resourceVersion?: string; annotations?: Record<string, string> };
    code?: number;
    reason?: string;
    message?: string;
  };
}

/** Reads a raw watch response (NDJSON) until it ends or `count` events arrived. */
async function readWatch(url: string, count: number, timeoutMs = 5_000): Promise<{ events: Seen[]; ended: boolean }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/json");
  const events: Seen[] = [];
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  let ended = false;
  while (events.length < count) {
    const { value, done } = await reader.read();
    if (done) {
      ended = true;
      break;
    }
    buf += value;
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      events.push(JSON.parse(buf.slice(0, nl)));
      buf = buf.slice(nl + 1);
    }
  }
  await reader.cancel().catch(() => {});
  return { events, ended };
}

Deno.test("kube double watch: replay after a resourceVersion, initial ADDED without one, selector transitions", async () => {
  const double = await startKubeDouble({ namespaces: [NS] });
  try {
    const { core } = clients(double);
    const a = await core.createNamespacedSecret({
      namespace: NS,
      body: { metadata: { name: "a", labels: { app: "x" } } },
    });
    const rv0 = a.metadata!.resourceVersion!;
    await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: "b", labels: { app: "x" } } } });
    await core.patchNamespacedSecret(
      { namespace: NS, name: "a", body: { metadata: { labels: { app: "y" } } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    await core.deleteNamespacedSecret({ namespace: NS, name: "b" });

    const base = `${double.url}/api/v1/namespaces/${NS}/secrets?watch=1`;
    const replay = await readWatch(`${base}&resourceVersion=${rv0}`, 3);
    assert.deepEqual(replay.events.map((e) => [e.type, e.object.metadata?.name]), [
      ["ADDED", "b"],
      ["MODIFIED", "a"],
      ["DELETED", "b"],
    ]);
    assert.equal(replay.events[0].object.kind, "Secret");
    // Versions strictly increase, and the DELETED event carries the deletion's own version.
    const rvs = replay.events.map((e) => Number(e.object.metadata!.resourceVersion));
    assert.ok(rvs[0] < rvs[1] && rvs[1] < rvs[2], `${rvs}`);

    // With a label selector, the object that stopped matching arrives as DELETED.
    const selected = await readWatch(`${base}&resourceVersion=${rv0}&labelSelector=app%3Dx`, 3);
    assert.deepEqual(selected.events.map((e) => [e.type, e.object.metadata?.name]), [
      ["ADDED", "b"],
      ["DELETED", "a"],
      ["DELETED", "b"],
    ]);

    // No resourceVersion: the current objects as ADDED.
    const fresh = await readWatch(base, 1);
    assert.deepEqual(fresh.events.map((e) => [e.type, e.object.metadata?.name]), [["ADDED", "a"]]);
  } finally {
    await double.close();
  }
});

Deno.test("kube double watch: 410 Expired as an ERROR event when the version is older than the history", async () => {
  const double = await startKubeDouble({ namespaces: [NS], historySize: 3 });
  try {
    const { core } = clients(double);
    const first = await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: "s0" } } });
    for (let i = 1; i < 6; i++) {
      await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: `s${i}` } } });
    }
    const rv = Number(first.metadata!.resourceVersion);
    const res = await readWatch(`${double.url}/api/v1/namespaces/${NS}/secrets?watch=true&resourceVersion=${rv}`, 2);
    assert.equal(res.ended, true, "the stream ends after the ERROR event");
    assert.equal(res.events.length, 1);
    assert.equal(res.events[0].type, "ERROR");
    assert.deepEqual(res.events[0].object, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: `too old resource version: ${rv} (${rv + 2})`,
      reason: "Expired",
      code: 410,
    });
    // Within the history, replay works.
    const ok = await readWatch(`${double.url}/api/v1/namespaces/${NS}/secrets?watch=true&resourceVersion=${rv + 2}`, 3);
    assert.deepEqual(ok.events.map((e) => e.object.metadata?.name), ["s3", "s4", "s5"]);
    // compact(): every older version is too old, even for a resource type with no history yet.
    double.compact();
    const gone = await readWatch(`${double.url}/api/v1/namespaces/${NS}/pods?watch=true&resourceVersion=${rv}`, 1);
    assert.equal(gone.events[0].object.code, 410);
  } finally {
    await double.close();
  }
});

Deno.test("kube double watch: bookmarks, initial-events-end, timeoutSeconds", async () => {
  const double = await startKubeDouble({ namespaces: [NS], bookmarkIntervalMs: 100 });
  try {
    const { core } = clients(double);
    const s = await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: "a" } } });
    const started = performance.now();
    const res = await readWatch(
      `${double.url}/api/v1/namespaces/${NS}/secrets?watch=1&allowWatchBookmarks=true&timeoutSeconds=1&resourceVersion=${
        s.metadata!.resourceVersion
      }`,
      100,
    );
    const elapsed = performance.now() - started;
    assert.equal(res.ended, true);
    assert.ok(elapsed >= 900 && elapsed < 3_000, `ended after ${elapsed} ms`);
    const bookmarks = res.events.filter((e) => e.type === "BOOKMARK");
    assert.ok(bookmarks.length >= 5, `${bookmarks.length} bookmarks`);
    assert.equal(bookmarks[0].object.kind, "Secret");
    assert.ok(Number(bookmarks[0].object.metadata!.resourceVersion) >= Number(s.metadata!.resourceVersion));
    // Without allowWatchBookmarks: none.
    const plain = await readWatch(
      `${double.url}/api/v1/namespaces/${NS}/secrets?watch=1&timeoutSeconds=1&resourceVersion=${
        s.metadata!.resourceVersion
      }`,
      100,
    );
    assert.equal(plain.events.length, 0);
    assert.equal(plain.ended, true);
    // sendInitialEvents: ADDED, then a bookmark annotated as the end of the initial events.
    const initial = await readWatch(
      `${double.url}/api/v1/namespaces/${NS}/secrets?watch=1&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan`,
      2,
    );
    assert.deepEqual(initial.events.map((e) => e.type), ["ADDED", "BOOKMARK"]);
    assert.equal(initial.events[1].object.metadata?.annotations?.["k8s.io/initial-events-end"], "true");
  } finally {
    await double.close();
  }
});

Deno.test("kube double watch: client-node informer lists, watches, and reconnects after dropped watches and a 410", async () => {
  const double = await startKubeDouble({ namespaces: [NS] });
  const { kc, core } = clients(double);
  let lists = 0;
  const informer = k8s.makeInformer(kc, `/api/v1/namespaces/${NS}/secrets`, () => {
    lists++;
    return core.listNamespacedSecret({ namespace: NS });
  });
  const names = new Set<string>();
  const errors: unknown[] = [];
  let connects = 0;
  informer.on("add", (o) => names.add(o.metadata!.name!));
  informer.on("delete", (o) => names.delete(o.metadata!.name!));
  informer.on("error", (e) => errors.push(e));
  informer.on("connect", () => connects++);
  try {
    await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: "before" } } });
    await informer.start();
    await eventually(() => double.openWatches("secrets") === 1, 5_000, "the informer's watch");
    assert.ok(names.has("before"));
    await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: "live" } } });
    await eventually(() => names.has("live"), 5_000, "the live ADDED event");

    // A clean drop (server closed the watch): the informer reconnects from its last version.
    assert.equal(double.dropWatches(), 1);
    await eventually(() => double.openWatches("secrets") === 1 && connects >= 2, 10_000, "a reconnect");
    await core.deleteNamespacedSecret({ namespace: NS, name: "live" });
    await eventually(() => !names.has("live"), 5_000, "the DELETED event after the reconnect");

    assert.equal(lists, 1, "a clean reconnect resumes the watch without listing again");

    // Drop again with the history compacted meanwhile: the watch gets 410, the informer lists again.
    double.compact();
    assert.equal(double.dropWatches({ resource: "secrets" }), 1);
    await eventually(() => lists === 2 && double.openWatches("secrets") === 1, 10_000, "the relist after 410").catch(
      (e) => {
        throw new Error(
          `${e.message} (lists ${lists}, open ${
            double.openWatches("secrets")
          }, connects ${connects}, errors ${errors})`,
        );
      },
    );
    await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: "after-410" } } });
    await eventually(() => names.has("after-410"), 5_000, "events after the relist");
    assert.deepEqual(errors, []);
  } finally {
    await informer.stop();
    await double.close();
  }
});
