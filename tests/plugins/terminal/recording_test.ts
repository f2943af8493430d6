import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { join } from "node:path";
import { AsciicastWriter, type AsciicastWriterOptions, type CastSink } from "../../../plugins/terminal/asciicast.ts";
import { bridge } from "../../../plugins/terminal/bridge.ts";
import type { PtyChannel } from "../../../plugins/terminal/pty_channel.ts";
import { compactUtc, lastTime, RECORDING_ID, Recordings } from "../../../plugins/terminal/recordings.ts";

const HEADER = { version: 2 as const, width: 80, height: 24, timestamp: 1_767_225_600, title: "t" };
const LIMITS = { maxBytes: 1 << 20, flushBytes: 64 << 10, flushMs: 20, maxPendingBytes: 1 << 20 };
const bytes = (...b: number[]) => new Uint8Array(b);
const utf8 = (s: string) => new TextEncoder().encode(s);

/** A writer on a real temp file with a hand-moved clock; `read` parses what is on disk. */
async function onFile(opts: Partial<AsciicastWriterOptions> = {}) {
  const dir = await Deno.makeTempDir({ prefix: "claworc-cast-" });
  const path = join(dir, "a.cast");
  let ms = 1000;
  const file = await Deno.open(path, { write: true, createNew: true });
  const w = new AsciicastWriter(file, HEADER, { ...LIMITS, now: () => ms, ...opts });
  return {
    w,
    path,
    at: (t: number) => void (ms = t),
    read: async () => {
      const lines = (await Deno.readTextFile(path)).split("\n");
      assert.equal(lines.pop(), "", "the file ends with a newline");
      return { header: JSON.parse(lines[0]), events: lines.slice(1).map((l) => JSON.parse(l)) };
    },
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
}

Deno.test("asciicast: header line, then output and resize events with times that never go back", async () => {
  const f = await onFile();
  try {
    f.at(1010);
    f.w.output(utf8("hello "));
    f.at(1500.5);
    f.w.resize(132, 40);
    f.at(1400); // a clock going backwards does not make time go backwards in the file
    f.w.output(utf8('world\x1b[0m\r\n"q"'));
    await f.w.close();
    const { header, events } = await f.read();
    assert.deepEqual(header, HEADER);
    assert.deepEqual(events, [
      [0.01, "o", "hello "],
      [0.5005, "r", "132x40"],
      [0.5005, "o", 'world\x1b[0m\r\n"q"'],
    ]);
    for (let i = 1; i < events.length; i++) assert.ok(events[i][0] >= events[i - 1][0]);
    f.w.output(utf8("after close")); // ignored, and no throw
    assert.equal((await f.read()).events.length, 3);
  } finally {
    await f.cleanup();
  }
});

Deno.test("asciicast: UTF-8 split across chunks stays whole; an unfinished character at the end is marked", async () => {
  const f = await onFile();
  try {
    const euro = utf8("€"); // E2 82 AC
    const smile = utf8("😀"); // four bytes
    f.w.output(bytes(0x61, euro[0]));
    f.w.output(bytes(euro[1]));
    f.w.output(bytes(euro[2], smile[0], smile[1]));
    f.w.output(bytes(smile[2], smile[3], 0x62));
    f.w.output(bytes(0xc3)); // half of "é", and then the session ends
    await f.w.close();
    const text = (await f.read()).events.filter((e) => e[1] === "o").map((e) => e[2]).join("");
    assert.equal(text, "a€😀b\ufffd");
    assert.ok(!text.slice(0, -1).includes("\ufffd"));
  } finally {
    await f.cleanup();
  }
});

/** A sink that counts writes and can be held back or made to fail. */
class TestSink implements CastSink {
  chunks: Uint8Array[] = [];
  writes = 0;
  closed = false;
  hold: Promise<void> | null = null;
  fail = false;
  async write(p: Uint8Array): Promise<number> {
    this.writes++;
    if (this.hold) await this.hold;
    if (this.fail) throw new Error("disk full");
    // Partial writes happen; the writer must loop.
    const n = Math.min(p.length, 4096);
    this.chunks.push(p.slice(0, n));
    return n;
  }
  close() {
    this.closed = true;
  }
  text() {
    return new TextDecoder().decode(new Uint8Array(this.chunks.flatMap((c) => [...c])));
  }
}

Deno.test("asciicast: writes are batched (not one per chunk), partial writes continue, the timer flushes", async () => {
  const sink = new TestSink();
  const w = new AsciicastWriter(sink, HEADER, { ...LIMITS, flushMs: 30 });
  for (let i = 0; i < 2000; i++) w.output(utf8(`line ${i}\r\n`));
  assert.equal(sink.writes, 0, "nothing written synchronously per chunk");
  await new Promise((r) => setTimeout(r, 120));
  const afterTimer = sink.text();
  assert.ok(afterTimer.includes("line 1999"), "the timer wrote what waited without a close");
  assert.ok(sink.writes < 40, `${sink.writes} writes for 2000 chunks (4 KiB partial writes)`);
  w.output(utf8("tail"));
  await w.close();
  assert.ok(sink.closed);
  const events = sink.text().trim().split("\n").slice(1).map((l) => JSON.parse(l));
  assert.equal(events.length, 2001);
  assert.equal(events.at(-1)[2], "tail");
});

Deno.test("asciicast: the file is capped, says it was cut, and nothing is recorded after", async () => {
  const f = await onFile({ maxBytes: 4096 });
  try {
    for (let i = 0; i < 500; i++) f.w.output(utf8(`${"x".repeat(60)} ${i} é\r\n`));
    f.w.resize(100, 30);
    await f.w.close();
    const size = (await Deno.stat(f.path)).size;
    assert.ok(size <= 4096 && size > 3000, `${size} bytes`);
    assert.match(f.w.truncated ?? "", /size limit of 4096 bytes/);
    const { events } = await f.read();
    assert.deepEqual(events.at(-2).slice(1), ["m", "truncated"]);
    assert.match(events.at(-1)[2], /Recording stopped: size limit of 4096 bytes reached/);
    assert.ok(!events.some((e) => e[1] === "r"), "the resize after the cut is not recorded");
  } finally {
    await f.cleanup();
  }
});

Deno.test("asciicast: a failing or stalled disk never throws into the terminal and stays bounded", async () => {
  const failing = new TestSink();
  failing.fail = true;
  const errors: string[] = [];
  const w = new AsciicastWriter(failing, HEADER, { ...LIMITS, flushMs: 5, onError: (e) => errors.push(e.message) });
  w.output(utf8("a"));
  await new Promise((r) => setTimeout(r, 30));
  for (let i = 0; i < 100; i++) w.output(utf8("more"));
  await w.close();
  assert.deepEqual(errors, ["disk full"], "told once");
  assert.ok(failing.closed);

  const stalled = new TestSink();
  let release = () => {};
  stalled.hold = new Promise((r) => release = r);
  const s = new AsciicastWriter(stalled, HEADER, { ...LIMITS, flushBytes: 1024, maxPendingBytes: 8192 });
  const started = performance.now();
  for (let i = 0; i < 10_000; i++) s.output(utf8("y".repeat(100)));
  assert.ok(performance.now() - started < 1000, "output() does not wait for the disk");
  assert.equal(s.truncated, "the disk did not keep up");
  assert.ok(s.bytes < 8192 + 4096, `${s.bytes} bytes held, not 1 MB`);
  stalled.hold = null;
  release();
  await s.close();
  assert.match(stalled.text(), /Recording stopped: the disk did not keep up/);
});

Deno.test("bridge: the tap sees every output chunk sent, and a throwing tap does not stop the terminal", () => {
  const ch = new EventEmitter() as EventEmitter & { pause(): void; resume(): void };
  ch.pause = ch.resume = () => {};
  const sent: unknown[] = [];
  const ws = Object.assign(new EventTarget(), {
    readyState: WebSocket.OPEN,
    bufferedAmount: 0,
    send: (d: unknown) => sent.push(d),
  });
  const seen: Uint8Array[] = [];
  const limits = { outputHighWater: 1e6, outputLowWater: 1e5, inputHighWater: 1e6, inputMaxBuffered: 1e7 };
  const stop = bridge(ws as unknown as WebSocket, ch as unknown as PtyChannel, limits, (c) => {
    seen.push(c);
    if (seen.length === 2) throw new Error("boom");
  });
  for (const s of ["a", "b", "c"]) ch.emit("data", utf8(s));
  assert.equal(sent.length, 3);
  assert.deepEqual(seen.map((c) => new TextDecoder().decode(c)), ["a", "b", "c"]);
  stop();
});

Deno.test("recordings: files are ours (name, place, mode), listed per owner, purged by age unless being written", async () => {
  const root = await Deno.makeTempDir({ prefix: "claworc-rec-" });
  let now = Date.UTC(2026, 0, 31, 23, 59, 58);
  const warnings: string[] = [];
  const store = new Recordings(join(root, "recordings"), LIMITS, () => now, (m) => warnings.push(m));
  try {
    const subject = { instanceId: 3, instanceName: "bot-a", sessionId: "main", cols: 80, rows: 24 };
    const a = (await store.start({ ...subject, user: { id: 1, username: "admin" } }))!;
    const b = (await store.start({ ...subject, sessionId: "s-1_x", user: { id: 2, username: "bob" } }))!;
    assert.match(a.id, /^main-20260131T235958Z-[0-9a-f]{8}$/);
    assert.match(b.id, RECORDING_ID);
    const pathA = join(root, "recordings", "3", `${a.id}.cast`);
    assert.equal((await Deno.stat(pathA)).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(join(root, "recordings", "3"))).mode! & 0o777, 0o700);
    a.output(utf8("$ ls\r\n"));
    b.output(utf8("bob's"));
    await b.close();

    const all = await store.list(3);
    assert.deepEqual(all.map((r) => [r.session_id, r.user, r.user_id, r.active]).sort(), [
      ["main", "admin", 1, true],
      ["s-1_x", "bob", 2, false],
    ]);
    assert.equal(all[0].started_at, "2026-01-31T23:59:58.000Z");
    assert.deepEqual((await store.list(3, { id: 2, username: "bob" })).map((r) => r.id), [b.id]);
    assert.deepEqual(await store.list(3, { id: 2, username: "carol" }), [], "a reused user id is not the owner");
    assert.deepEqual(await store.list(4), [], "another instance has none");
    const header = JSON.parse((await Deno.readTextFile(pathA)).split("\n")[0]);
    assert.equal(header.env.CLAWORC_USER, "admin");
    assert.equal(header.env.CLAWORC_USER_ID, "1");
    assert.match(header.title, /admin in terminal session main on bot-a/);

    // Only ids of our shape name a file; anything else is refused before any path is made.
    for (const bad of ["../3/x", "main", `${a.id}.cast`, `${a.id}/..`, "..", `x-20260101T000000Z-zzzzzzzz`]) {
      await assert.rejects(store.get(3, bad), (e: Error & { code?: string }) => e.code === "BAD_REQUEST", bad);
    }
    await assert.rejects(store.get(3, b.id, { id: 1, username: "admin" }), /No recording/);
    // A link with a recording's name is not served.
    const outside = join(root, "secret.txt");
    await Deno.writeTextFile(outside, "secret");
    const linkId = "main-20260101T000000Z-0000abcd";
    await Deno.symlink(outside, join(root, "recordings", "3", `${linkId}.cast`));
    await assert.rejects(store.get(3, linkId), /No recording/);
    assert.ok(!(await store.list(3)).some((r) => r.id === linkId));

    // Retention: by last write; the recording being written is kept whatever its age.
    now += 10 * 86_400_000;
    const old = new Date(now - 8 * 86_400_000);
    await Deno.utime(join(root, "recordings", "3", `${b.id}.cast`), old, old);
    await Deno.utime(pathA, old, old);
    assert.equal(await store.purgeOlderThan(9), 0);
    assert.equal(await store.purgeOlderThan(7), 1, "bob's finished recording only");
    assert.deepEqual((await store.list(3)).map((r) => r.id), [a.id]);
    await a.close();
    // Closing flushes what was still buffered (a real write, so a real mtime): age the file again.
    await Deno.utime(pathA, old, old);
    assert.equal(await store.purgeOlderThan(7), 1, "finished now, and old");
    assert.equal(await Deno.readTextFile(outside), "secret", "the link's target is untouched");

    await store.start({ ...subject, user: { id: 1, username: "admin" } }).then((r) => r!.close());
    assert.equal((await store.list(3)).length, 1);
    await store.removeInstance(3);
    assert.deepEqual(await store.list(3), []);
    assert.deepEqual(warnings, []);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("recordings: the last event time is read from the tail; compact UTC names", () => {
  assert.equal(lastTime('{"version":2}\n[0.5,"o","a"]\n[1.25,"r","80x24"]\n'), 1.25);
  assert.equal(lastTime('o","cut at the window start"]\n[2,"o","x"]\n[3,"o","incompl'), 2);
  assert.equal(lastTime('{"version":2}\n'), 0);
  assert.equal(compactUtc(Date.UTC(2026, 1, 3, 4, 5, 6, 789)), "20260203T040506Z");
});
