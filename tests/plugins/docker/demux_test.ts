import assert from "node:assert/strict";
import { demuxLog } from "../../../plugins/docker/demux.ts";

const frame = (stream: number, text: string) => {
  const body = new TextEncoder().encode(text);
  const head = new Uint8Array(8);
  head[0] = stream;
  new DataView(head.buffer).setUint32(4, body.length);
  return [...head, ...body];
};

Deno.test("container logs: frame headers removed, UTF-8 kept whole across frames, unframed text untouched", () => {
  const euro = new TextEncoder().encode("€");
  const split = [...frame(1, "a\n"), 1, 0, 0, 0, 0, 0, 0, 2, euro[0], euro[1], ...frame(2, "")];
  split.splice(split.length - 8, 0, ...[1, 0, 0, 0, 0, 0, 0, 2, euro[2], 0x0a]);
  assert.equal(demuxLog(new Uint8Array(split)), "a\n€\n");
  assert.equal(demuxLog(new TextEncoder().encode("plain tty output\n")), "plain tty output\n");
  assert.equal(demuxLog(new Uint8Array()), "");
});
