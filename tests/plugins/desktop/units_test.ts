import assert from "node:assert/strict";
import { DesktopControl, type Viewer } from "../../../plugins/desktop/control.ts";
import { offeredProtocols, parseClientMessage, type ServerMessage } from "../../../plugins/desktop/protocol.ts";

function viewer(instanceId: number, userName: string): Viewer & { got: ServerMessage[] } {
  const got: ServerMessage[] = [];
  return { instanceId, userName, got, send: (m) => got.push(m) };
}
const last = (v: { got: ServerMessage[] }) => v.got.at(-1);

Deno.test("desktop control: one controller per instance, taken explicitly, told to every viewer", () => {
  const c = new DesktopControl();
  const a = viewer(1, "alice"), b = viewer(1, "bob"), other = viewer(2, "carol");
  c.join(a);
  assert.deepEqual(last(a), { type: "control", controller: null, you: false, viewers: 1 });
  c.join(b);
  c.join(other);
  assert.equal(c.size, 3);
  assert.deepEqual(last(a), { type: "control", controller: null, you: false, viewers: 2 });
  assert.ok(!c.isController(a) && !c.isController(b), "everyone starts view-only");

  assert.equal(c.take(a), null);
  assert.ok(c.isController(a));
  assert.deepEqual(last(a), { type: "control", controller: "alice", you: true, viewers: 2 });
  assert.deepEqual(last(b), { type: "control", controller: "alice", you: false, viewers: 2 });
  assert.deepEqual(last(other), { type: "control", controller: null, you: false, viewers: 1 }, "other instances apart");

  // Taking control makes the previous controller a viewer.
  assert.equal(c.take(b), "alice");
  assert.ok(c.isController(b) && !c.isController(a));
  assert.deepEqual(last(a), { type: "control", controller: "bob", you: false, viewers: 2 });

  // Only the controller can release; then nobody controls.
  assert.equal(c.release(a), false);
  assert.equal(c.release(b), true);
  assert.deepEqual(last(a), { type: "control", controller: null, you: false, viewers: 2 });

  // A controller that leaves frees control; the others are told.
  c.take(a);
  assert.equal(c.leave(a), true);
  assert.deepEqual(last(b), { type: "control", controller: null, you: false, viewers: 1 });
  assert.equal(c.leave(b), false);
  assert.equal(c.leave(b), false, "leaving twice is harmless");
  assert.equal(c.size, 1);
  // A socket that left cannot take control.
  assert.equal(c.take(b), null);
  assert.ok(!c.isController(b));
});

Deno.test("desktop control: two sockets of the same user are distinct (the second starts view-only)", () => {
  const c = new DesktopControl();
  const tab1 = viewer(1, "alice"), tab2 = viewer(1, "alice");
  c.join(tab1);
  c.join(tab2);
  c.take(tab1);
  assert.deepEqual(last(tab2), { type: "control", controller: "alice", you: false, viewers: 2 });
  assert.ok(!c.isController(tab2));
});

Deno.test("desktop protocol: control messages and subprotocol offers are parsed strictly", () => {
  assert.deepEqual(parseClientMessage('{"type":"take_control"}'), { type: "take_control" });
  assert.deepEqual(parseClientMessage('{"type":"release_control","extra":1}'), { type: "release_control" });
  for (const bad of ["", "null", "[]", '{"type":"control"}', "take_control", '{"type":1}']) {
    assert.equal(parseClientMessage(bad), null, bad);
  }
  assert.deepEqual(offeredProtocols(undefined), []);
  assert.deepEqual(offeredProtocols("binary, base64"), ["binary"], "base64 would carry RFB in text frames");
  assert.deepEqual(offeredProtocols(" binary ,x\r\ny, ok-1"), ["binary", "ok-1"], "non-token values are dropped");
});
