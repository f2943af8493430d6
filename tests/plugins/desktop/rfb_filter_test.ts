import assert from "node:assert/strict";
import {
  EXTENDED_MOUSE_BUTTONS,
  MAX_CUT_TEXT,
  RFB_MESSAGE,
  RfbInputFilter,
  RfbProtocolError,
} from "../../../plugins/desktop/rfb_filter.ts";
import * as rfb from "./_rfb.ts";

/** A filter past the handshake (ProtocolVersion 3.8, security None, ClientInit shared). */
function initialised(): RfbInputFilter {
  const f = new RfbInputFilter();
  assert.deepEqual(f.push(rfb.handshake(), false), rfb.handshake());
  assert.ok(f.initialised);
  return f;
}

/** Feeds `bytes` one byte at a time (the worst framing a WebSocket can give). */
function byteByByte(f: RfbInputFilter, bytes: Uint8Array, controller: boolean): Uint8Array {
  const out: number[] = [];
  for (const b of bytes) out.push(...f.push(Uint8Array.of(b), controller));
  return Uint8Array.from(out);
}

Deno.test("rfb filter: the handshake passes from everyone, whole or split", () => {
  for (const version of ["RFB 003.008\n", "RFB 003.007\n"]) {
    const bytes = rfb.handshake(version);
    const f = new RfbInputFilter();
    assert.deepEqual(byteByByte(f, bytes, false), bytes);
    assert.ok(f.initialised);
  }
  // VNC authentication: its 16-byte answer passes, then ClientInit.
  const auth = rfb.concat(rfb.text("RFB 003.008\n"), Uint8Array.of(2), new Uint8Array(16).fill(7), Uint8Array.of(1));
  const f = new RfbInputFilter();
  assert.deepEqual(f.push(auth, false), auth);
  assert.ok(f.initialised);
});

Deno.test("rfb filter: a viewer's keys, pointer, clipboard and other input are dropped; pixel requests pass", () => {
  const f = initialised();
  const passing = [
    rfb.setPixelFormat(),
    rfb.setEncodings([7, 16, 0, -223]),
    rfb.updateRequest(true, 0, 0, 1280, 800),
    rfb.enableContinuousUpdates(),
    rfb.fence(Uint8Array.of(1, 2, 3)),
  ];
  const dropped = [
    rfb.key(true, 0x61),
    rfb.pointer(1, 100, 200),
    rfb.cutText("from a viewer"),
    rfb.cutTextExtended(new Uint8Array(40).fill(9)),
    rfb.xvp(2),
    rfb.setDesktopSize(800, 600, 2),
    rfb.qemuKey(true, 0x61, 30),
  ];
  const stream = rfb.concat(...dropped.flatMap((d, i) => [d, passing[i % passing.length]]));
  const expected = rfb.concat(...dropped.map((_, i) => passing[i % passing.length]));
  assert.deepEqual(f.push(stream, false), expected);
  assert.equal(f.dropped, dropped.length);
  // The same split into single bytes.
  const g = initialised();
  assert.deepEqual(byteByByte(g, stream, false), expected);
  assert.equal(g.dropped, dropped.length);
});

Deno.test("rfb filter: the controller's input passes unchanged", () => {
  const f = initialised();
  const stream = rfb.concat(
    rfb.key(true, 0xffe3),
    rfb.pointer(1, 5, 6),
    rfb.cutText("héllo"),
    rfb.setDesktopSize(1024, 768, 1),
    rfb.qemuKey(false, 0x62, 48),
    rfb.xvp(4),
  );
  assert.deepEqual(f.push(stream, true), stream);
  assert.equal(f.dropped, 0);
});

Deno.test("rfb filter: control is decided when a message starts, so a change mid-message never splits one", () => {
  const f = initialised();
  const text = "x".repeat(1000);
  const cut = rfb.cutText(text);
  // The controller starts a long clipboard message; control moves away before the rest arrives: it still passes whole.
  const first = f.push(cut.subarray(0, 20), true);
  const rest = f.push(cut.subarray(20), false);
  assert.deepEqual(rfb.concat(first, rest), cut);
  // A viewer's message started while viewing is dropped whole even if it becomes the controller halfway.
  const key = rfb.key(true, 0x62);
  assert.deepEqual(f.push(rfb.concat(key.subarray(0, 3)), false), new Uint8Array(0));
  assert.deepEqual(f.push(key.subarray(3), true), new Uint8Array(0));
  // What follows is framed correctly: the next key passes for the controller.
  assert.deepEqual(f.push(rfb.key(false, 0x62), true), rfb.key(false, 0x62));
});

Deno.test("rfb filter: a viewer's clipboard text streams away without being kept", () => {
  const f = initialised();
  const big = rfb.cutText("y".repeat(1 << 20));
  let out = 0;
  for (let at = 0; at < big.length; at += 65_536) out += f.push(big.subarray(at, at + 65_536), false).length;
  assert.equal(out, 0);
  assert.deepEqual(f.push(rfb.updateRequest(false, 0, 0, 10, 10), false), rfb.updateRequest(false, 0, 0, 10, 10));
});

Deno.test("rfb filter: ExtendedMouseButtons is taken out of SetEncodings (pointer events keep one length)", () => {
  const f = initialised();
  const out = f.push(rfb.setEncodings([7, EXTENDED_MOUSE_BUTTONS, -223, EXTENDED_MOUSE_BUTTONS]), false);
  assert.deepEqual(out, rfb.setEncodings([7, -223]));
});

Deno.test("rfb filter: what it cannot frame fails closed", () => {
  const cases: [string, Uint8Array][] = [
    ["version 3.3 (the server picks the security type unseen)", rfb.text("RFB 003.003\n")],
    ["another protocol", rfb.text("GET / HTTP/1.1\r\n")],
    ["an unknown security type", rfb.concat(rfb.text("RFB 003.008\n"), Uint8Array.of(19))],
  ];
  for (const [what, bytes] of cases) {
    assert.throws(() => new RfbInputFilter().push(bytes, true), RfbProtocolError, what);
  }
  const after: [string, Uint8Array][] = [
    ["an unknown message type", Uint8Array.of(7, 0, 0, 0)],
    ["a QEMU sub-message other than key events", Uint8Array.of(RFB_MESSAGE.qemu, 1, 0, 0)],
    ["too many encodings", Uint8Array.of(RFB_MESSAGE.setEncodings, 0, 0xff, 0xff)],
    ["too much clipboard text", rfb.cutTextHeader(MAX_CUT_TEXT + 1)],
  ];
  for (const [what, bytes] of after) {
    assert.throws(() => initialised().push(bytes, true), RfbProtocolError, what);
    assert.throws(() => initialised().push(bytes, false), RfbProtocolError, what);
  }
});
