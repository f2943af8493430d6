import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { bridge } from "../../../plugins/terminal/bridge.ts";
import { newSessionId, sessionIdOf, tmuxName } from "../../../plugins/terminal/names.ts";
import { parsePrepared } from "../../../plugins/terminal/owner.ts";
import { parseClientMessage, replayBytes } from "../../../plugins/terminal/protocol.ts";
import type { PtyChannel } from "../../../plugins/terminal/pty_channel.ts";
import { expired } from "../../../plugins/terminal/reaper.ts";
import { clampSize, parseList, prepareCommand } from "../../../plugins/terminal/tmux.ts";

Deno.test("session ids: a safe alphabet only, mapped to and from tmux names", () => {
  assert.equal(tmuxName("main"), "cw-main");
  assert.equal(sessionIdOf("cw-main"), "main");
  assert.equal(sessionIdOf("work"), null, "the agent's own sessions are not ours");
  for (const bad of ["", "a b", "a'b", "a;b", "x".repeat(33), "a:b", "a.b"]) {
    assert.throws(() => tmuxName(bad), /Invalid session_id/);
  }
  assert.match(newSessionId(), /^s-[0-9a-f]{8}$/);
});

Deno.test("sizes are clamped to sane bounds; nonsense becomes 80×24", () => {
  assert.deepEqual(clampSize(100_000, 0), { cols: 500, rows: 1 });
  assert.deepEqual(clampSize(-5, 1e9), { cols: 2, rows: 200 });
  assert.deepEqual(clampSize("80", NaN), { cols: 80, rows: 24 });
  assert.deepEqual(clampSize(120.6, 40.2), { cols: 121, rows: 40 });
  assert.match(prepareCommand("cw-a", 3, { cols: 9999, rows: 5 }, { historyLines: 10, replayLines: 5 }), /-x 500 -y 5/);
});

Deno.test("tmux list and prepare outputs are parsed; odd lines are skipped", () => {
  assert.deepEqual(parseList("cw-a\t3\t1\t100\t200\t\njunk\ncw-b\t\t0\t10\t20\t30\n"), [
    { name: "cw-a", ownerId: 3, attached: 1, created: 100, lastActivity: 200, detachedAt: null },
    { name: "cw-b", ownerId: null, attached: 0, created: 10, lastActivity: 20, detachedAt: 30 },
  ]);
  assert.deepEqual(parsePrepared("created\n"), { created: true });
  assert.deepEqual(parsePrepared("owner 7\nline 1\nline 2\n"), {
    created: false,
    ownerId: 7,
    capture: "line 1\nline 2\n",
  });
  assert.deepEqual(parsePrepared("owner \n"), { created: false, ownerId: null, capture: "" });
  assert.throws(() => parsePrepared("", "tmux: not found"), /tmux: not found/);
});

Deno.test("the replay uses CRLF and resets attributes per line; control frames are validated", () => {
  assert.equal(new TextDecoder().decode(replayBytes("a\x1b[31mb\nc\n")), "a\x1b[31mb\x1b[0m\r\nc\x1b[0m");
  assert.equal(replayBytes("").length, 0);
  assert.deepEqual(parseClientMessage('{"type":"resize","cols":80,"rows":24}'), { type: "resize", cols: 80, rows: 24 });
  assert.equal(parseClientMessage('{"type":"resize","cols":"80"}'), null);
  assert.equal(parseClientMessage("not json"), null);
});

Deno.test("the reaper picks detached sessions past their time only", () => {
  const now = 1_000_000_000;
  const s = (name: string, attached: number, detachedAt: number | null, activity = 0) => ({
    name,
    ownerId: 1,
    attached,
    created: 0,
    lastActivity: activity,
    detachedAt,
  });
  const list = [
    s("cw-old", 0, now / 1000 - 7200),
    s("cw-recent", 0, now / 1000 - 60),
    s("cw-attached", 1, now / 1000 - 7200),
    s("agent-own", 0, 0),
    s("cw-crashed", 0, null, now / 1000 - 7200),
  ];
  assert.deepEqual(expired(list, now, 3600_000).map((t) => t.name), ["cw-old", "cw-crashed"]);
});

/** A PTY channel double: records writes and pause/resume, and reports a full buffer on demand. */
class FakeChannel extends EventEmitter {
  written: Uint8Array[] = [];
  paused = false;
  writableLength = 0;
  full = false;
  write(d: Uint8Array) {
    this.written.push(d);
    this.writableLength += d.length;
    return !this.full;
  }
  pause() {
    this.paused = true;
  }
  resume() {
    this.paused = false;
  }
  setWindow() {}
  close() {}
}

/** A WebSocket double with a settable `bufferedAmount`. */
class FakeSocket extends EventTarget {
  readyState: number = WebSocket.OPEN;
  bufferedAmount = 0;
  sent: (string | Uint8Array)[] = [];
  closedWith: number | null = null;
  send(d: string | Uint8Array) {
    this.sent.push(d);
    if (typeof d !== "string") this.bufferedAmount += d.length;
  }
  close(code: number) {
    this.closedWith = code;
  }
}

Deno.test("bridge: a slow browser pauses the channel (bounded), input pauses the browser, overflow closes", async () => {
  const ch = new FakeChannel();
  const ws = new FakeSocket();
  const limits = { outputHighWater: 100, outputLowWater: 10, inputHighWater: 50, inputMaxBuffered: 200 };
  const stop = bridge(ws as unknown as WebSocket, ch as unknown as PtyChannel, limits);
  ch.emit("data", new Uint8Array(60));
  assert.equal(ch.paused, false);
  ch.emit("data", new Uint8Array(60));
  assert.equal(ch.paused, true, "paused above the high-water mark");
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(ch.paused, true, "still paused while the browser has not caught up");
  ws.bufferedAmount = 5;
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(ch.paused, false, "resumed below the low-water mark");
  assert.equal(ws.sent.length, 2, "nothing dropped");

  const input = (n: number) => ws.dispatchEvent(new MessageEvent("message", { data: new ArrayBuffer(n) }));
  input(40);
  assert.deepEqual(ws.sent.slice(2), []);
  ch.full = true;
  input(40);
  assert.deepEqual(ws.sent.slice(2), ['{"type":"pause"}']);
  ch.full = false;
  ch.writableLength = 0;
  ch.emit("drain");
  assert.deepEqual(ws.sent.slice(2), ['{"type":"pause"}', '{"type":"resume"}']);
  assert.equal(ch.written.length, 2, "every input chunk written");
  input(300);
  assert.equal(ws.closedWith, 1009, "a client ignoring pause is disconnected, not truncated");
  stop();
});
