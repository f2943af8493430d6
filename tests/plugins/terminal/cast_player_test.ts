import assert from "node:assert/strict";
import { CastPlayer, parseCast, type PlayerTimers } from "../../../plugins/terminal/islands/cast_player.ts";

const CAST = [
  JSON.stringify({ version: 2, width: 100, height: 30, timestamp: 1, title: "t" }),
  JSON.stringify([0.5, "o", "a"]),
  JSON.stringify([1, "r", "120x40"]),
  JSON.stringify([1, "o", "b"]),
  JSON.stringify([2, "m", "marker"]),
  JSON.stringify([60, "o", "c"]), // a long idle gap
  '[61, "o", "partial li', // a recording still being written
].join("\n");

/** Timers moved by hand: `advance` runs what falls due, in order. */
class HandTimers implements PlayerTimers {
  t = 0;
  #next = 1;
  #due = new Map<number, { at: number; fn: () => void }>();
  now = () => this.t;
  setTimeout = (fn: () => void, ms: number) => {
    this.#due.set(this.#next, { at: this.t + ms, fn });
    return this.#next++;
  };
  clearTimeout = (id: number) => void this.#due.delete(id);
  advance(ms: number) {
    const end = this.t + ms;
    for (;;) {
      const [id, first] = [...this.#due].sort((a, b) => a[1].at - b[1].at)[0] ?? [];
      if (!first || first.at > end) break;
      this.#due.delete(id);
      this.t = first.at;
      first.fn();
    }
    this.t = end;
  }
}

function screen() {
  const log: string[] = [];
  return {
    log,
    write: (t: string) => void log.push(`w:${t}`),
    resize: (c: number, r: number) => void log.push(`r:${c}x${r}`),
    reset: () => void log.push("reset"),
  };
}

Deno.test("cast parsing: header size, events in order, idle gaps shortened, partial lines skipped", () => {
  const cast = parseCast(CAST, 3);
  assert.equal(cast.width, 100);
  assert.equal(cast.height, 30);
  assert.deepEqual(cast.events.map((e) => e[0]), [0.5, 1, 1, 2, 5]);
  assert.equal(cast.duration, 5);
  assert.equal(parseCast(CAST).duration, 60, "no limit: real timing");
  assert.throws(() => parseCast('{"version":1}\n'), /asciicast v2/);
  assert.throws(() => parseCast("<html>"), /Not an asciicast/);
});

Deno.test("cast player: plays with the recording's timing, pauses, changes speed, replays from the start", () => {
  const timers = new HandTimers();
  const s = screen();
  const states: string[] = [];
  const p = new CastPlayer(parseCast(CAST), s, (st) => states.push(st), timers);
  assert.deepEqual(s.log, ["r:100x30"]);
  p.play();
  timers.advance(400);
  assert.deepEqual(s.log, ["r:100x30"], "nothing before 0.5 s");
  timers.advance(100);
  assert.deepEqual(s.log.slice(1), ["w:a"]);
  timers.advance(500);
  assert.deepEqual(s.log.slice(1), ["w:a", "r:120x40", "w:b"], "the resize comes before the output after it");

  p.pause();
  assert.equal(p.position, 1);
  timers.advance(100_000);
  assert.equal(s.log.length, 4, "nothing plays while paused");
  p.play();
  p.setSpeed(4);
  timers.advance(58_000 / 4 + 1_000 / 4 - 1); // 1 s played at 4× = 250 ms per second
  assert.equal(s.log.length, 4);
  timers.advance(1);
  assert.deepEqual(s.log.slice(4), ["w:c"]);
  assert.equal(p.state, "ended");
  assert.equal(states.at(-1), "ended");

  p.setSpeed(2);
  p.play();
  assert.deepEqual(s.log.slice(5, 7), ["reset", "r:100x30"], "a replay starts from a clean screen");
  timers.advance(250);
  assert.deepEqual(s.log.slice(7), ["w:a"], "0.5 s at 2×");
  p.stop();
  timers.advance(100_000);
  assert.deepEqual(s.log.slice(7), ["w:a"]);
});
