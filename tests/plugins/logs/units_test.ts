import assert from "node:assert/strict";
import { tailCommand } from "../../../plugins/logs/command.ts";
import { containerLogLines } from "../../../plugins/logs/container_log.ts";
import { LineQueue, LineSplitter } from "../../../plugins/logs/lines.ts";
import { logsQuery } from "../../../plugins/logs/query.ts";
import { LOG_TYPES } from "../../../plugins/logs/types.ts";
import {
  appendBounded,
  countMatching,
  highlightParts,
  logFileName,
  logFileText,
} from "../../../plugins/logs/islands/log_buffer.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("the query: allow-listed type, tail 1..5000 (default 200), strict follow flag", () => {
  assert.deepEqual(logsQuery.parse({}), { type: "openclaw", tail: 200, follow: false });
  assert.deepEqual(logsQuery.parse({ type: "sshd", tail: "5000", follow: "true" }), {
    type: "sshd",
    tail: 5000,
    follow: true,
  });
  assert.equal(logsQuery.parse({ follow: "0" }).follow, false);
  for (const bad of [{ type: "/etc/shadow" }, { type: "sshd;id" }, { tail: "0" }, { tail: "5001" }, { tail: "1.5" }]) {
    assert.equal(logsQuery.safeParse(bad).success, false, JSON.stringify(bad));
  }
  assert.equal(logsQuery.safeParse({ follow: "yes" }).success, false, "not every string is true");
});

Deno.test("the tail command holds only a fixed path and a checked number", () => {
  const sshd = { kind: "file" as const, path: "/var/log/claworc/sshd.log" };
  assert.equal(tailCommand(sshd, 200, true), "tail -n 200 -F ---disable-inotify -s 0.5 -- /var/log/claworc/sshd.log");
  assert.equal(tailCommand(sshd, 1, false), "tail -n 1 -- /var/log/claworc/sshd.log");
  assert.throws(() => tailCommand(sshd, 0, false), RangeError);
  assert.throws(() => tailCommand(sshd, 1.5, false), RangeError);
  assert.throws(() => tailCommand({ kind: "file", path: "/var/log/$(id)" }, 1, false), RangeError);
  assert.throws(() => tailCommand({ kind: "file", path: "/var/log/../../etc/shadow" }, 1, false), RangeError);
  for (const t of LOG_TYPES) {
    if (t.source.kind === "file") {
      assert.match(
        tailCommand(t.source, 10, true),
        /^tail -n 10 -F ---disable-inotify -s 0\.5 -- \/var\/log\/[a-z0-9/]+\.log$/,
      );
    }
  }
});

Deno.test("lines are split across chunks, UTF-8 kept whole, CRLF removed, long lines cut", () => {
  const s = new LineSplitter(10);
  const euro = bytes("€"); // 3 bytes, split across two chunks
  assert.deepEqual(s.push(bytes("one\r\ntw")), ["one"]);
  assert.deepEqual(s.push(new Uint8Array([...bytes("o "), euro[0]])), []);
  assert.deepEqual(s.push(new Uint8Array([euro[1], euro[2], 10])), ["two €"]);
  assert.deepEqual(s.push(bytes("0123456789abcdef")), ["0123456789 [… line cut at 10 characters]"]);
  assert.deepEqual(s.push(bytes("tail")), []);
  assert.deepEqual(s.end(), [], "the rest of a cut line is dropped, not made a line");
  assert.deepEqual(s.end(), []);
  assert.deepEqual(s.push(bytes("last")), []);
  assert.deepEqual(s.end(), ["last"]);
});

Deno.test("a long line arriving in many chunks is one cut line, and the lines after it are whole", () => {
  // tail's output reaches the splitter in SSH packets (about 32 KiB): a 100,000-character line spans four.
  const s = new LineSplitter(16_384);
  const all = bytes(`one\n${"x".repeat(100_000)}\nlast\n`);
  const lines: string[] = [];
  for (let at = 0; at < all.length; at += 32_768) lines.push(...s.push(all.subarray(at, at + 32_768)));
  lines.push(...s.end());
  const runs = lines.map((l) => l.replace(/x{2,}/g, (m) => `x×${m.length}`)); // readable when it fails
  assert.deepEqual(runs, ["one", "x×16384 [… line cut at 16384 characters]", "last"]);
});

Deno.test("the queue is bounded: what does not fit becomes a counted gap where it was lost", () => {
  const q = new LineQueue(10);
  q.push(["aaaa", "bbbb", "cccc", "dddd"]);
  assert.deepEqual(q.next(1), { lines: ["aaaa"] });
  q.push(["ee"]);
  assert.deepEqual(q.next(10), { lines: ["bbbb"] });
  assert.deepEqual(q.next(10), { gap: 2 });
  assert.deepEqual(q.next(10), { lines: ["ee"] });
  assert.equal(q.next(10), null);
  assert.ok(q.empty);
  q.push(["x".repeat(11)]);
  assert.deepEqual(q.next(10), { gap: 1 }, "a line larger than the budget is dropped, not queued");
});

Deno.test("container logs are cut into lines (CRLF too) and to the tail", () => {
  // Docker's frame headers are removed by the backend (plugins/docker/demux.ts, tested there).
  assert.deepEqual(containerLogLines("first\nwarning: second\n\nlast\n", 100), [
    "first",
    "warning: second",
    "",
    "last",
  ]);
  assert.deepEqual(containerLogLines("first\n\nlast\n", 2), ["", "last"]);
  assert.deepEqual(containerLogLines("plain tty output\r\nsecond\n", 5), ["plain tty output", "second"]);
  assert.deepEqual(containerLogLines("", 5), []);
});

Deno.test("viewer helpers: bounded buffer, highlighting, matches, download text and name", () => {
  let buf = appendBounded([], ["a", "b", "c"], 0, 4);
  buf = appendBounded(buf, ["d", "e"], 3, 4);
  assert.deepEqual(buf, [{ n: 1, text: "b" }, { n: 2, text: "c" }, { n: 3, text: "d" }, { n: 4, text: "e" }]);
  assert.deepEqual(appendBounded([], ["1", "2", "3"], 7, 2), [{ n: 8, text: "2" }, { n: 9, text: "3" }]);
  assert.deepEqual(highlightParts("Error: disk error", "ERROR"), [
    { text: "Error", match: true },
    { text: ": disk ", match: false },
    { text: "error", match: true },
  ]);
  assert.deepEqual(highlightParts("plain", ""), [{ text: "plain", match: false }]);
  assert.deepEqual(highlightParts("", "x"), [{ text: "", match: false }]);
  assert.equal(countMatching(buf, "D"), 1);
  assert.equal(logFileText(buf), "b\nc\nd\ne\n");
  assert.equal(logFileName(7, "sshd", new Date("2026-01-31T12:34:56.789Z")), "instance-7-sshd-20260131-123456.log");
});

Deno.test("viewer search: literal with regex characters, and matches stay in place after a character lowercasing lengthens", () => {
  // "İ".toLowerCase() is two code units: a search on the lowercased line marked "rror" instead of "error".
  assert.deepEqual(highlightParts("İstanbul: error", "ERROR"), [
    { text: "İstanbul: ", match: false },
    { text: "error", match: true },
  ]);
  assert.deepEqual(highlightParts("İİ a (b) [c]* \\d", "(B) [c]*"), [
    { text: "İİ a ", match: false },
    { text: "(b) [c]*", match: true },
    { text: " \\d", match: false },
  ]);
  assert.deepEqual(highlightParts("x\\y.z", "\\"), [
    { text: "x", match: false },
    { text: "\\", match: true },
    { text: "y.z", match: false },
  ]);
  const lines = appendBounded([], ["a(b", "a.b", "AB", "İ ab"], 0, 10);
  assert.equal(countMatching(lines, "("), 1);
  assert.equal(countMatching(lines, "."), 1);
  assert.equal(countMatching(lines, "ab"), 2);
});
