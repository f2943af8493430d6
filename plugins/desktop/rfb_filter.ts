/** Client → server RFB message types (RFC 6143 §7.5, plus the extensions noVNC sends). */
export const RFB_MESSAGE = {
  setPixelFormat: 0,
  setEncodings: 2,
  framebufferUpdateRequest: 3,
  keyEvent: 4,
  pointerEvent: 5,
  clientCutText: 6,
  enableContinuousUpdates: 150,
  clientFence: 248,
  xvp: 250,
  setDesktopSize: 251,
  qemu: 255,
} as const;

/**
 * Messages that act on the desktop (keys, pointer, clipboard, power operations, screen size): only the
 * controller's reach the server. The rest only ask for pixels and pass from everyone.
 */
const INPUT: ReadonlySet<number> = new Set([
  RFB_MESSAGE.keyEvent,
  RFB_MESSAGE.pointerEvent,
  RFB_MESSAGE.clientCutText,
  RFB_MESSAGE.xvp,
  RFB_MESSAGE.setDesktopSize,
  RFB_MESSAGE.qemu,
]);

/**
 * The ExtendedMouseButtons pseudo-encoding. Once a server enables it a PointerEvent is 6 or 7 bytes
 * depending on a bit in it, so its length would depend on what the server answered; the filter removes
 * it from SetEncodings and the server never enables it (noVNC then sends plain 6-byte events).
 */
export const EXTENDED_MOUSE_BUTTONS = -316;

/** Largest clipboard text a browser may send (libvncserver itself refuses more than 1 MiB). */
export const MAX_CUT_TEXT = 16 << 20;
/** Most encodings a SetEncodings may list (noVNC sends about 25). */
export const MAX_ENCODINGS = 1024;

/** The browser sent bytes the filter cannot frame: the socket must close (the stream cannot be resynchronised). */
export class RfbProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RfbProtocolError";
  }
}

type Phase = "version" | "security" | "vncAuth" | "clientInit" | "messages";

/**
 * Reads the browser → server half of an RFB session and returns what may reach the server: the
 * handshake (ProtocolVersion 3.7/3.8, the security type — None, or VNC authentication's 16-byte
 * answer — and ClientInit) always passes; after it, each message is framed and input messages are
 * dropped whole unless the caller says this socket is the controller *when the message starts*, so a
 * change of controller never cuts a message in two. Anything it cannot frame throws `RfbProtocolError`
 * (fail closed). Never buffers more than one message header (SetEncodings whole, ≤ 4 KiB), so clipboard
 * text streams through.
 */
export class RfbInputFilter {
  #phase: Phase = "version";
  #head = new Uint8Array(64);
  #len = 0;
  /** Bytes of the current message's streamed body (ClientCutText) still to come, and whether they pass. */
  #body = 0;
  #bodyPasses = false;
  /** Whether the socket controlled the desktop when the current message's first byte arrived. */
  #startedAsController = false;
  /** Input messages dropped so far. */
  dropped = 0;

  /** True once ClientInit went through (messages are framed from then on). */
  get initialised(): boolean {
    return this.#phase === "messages";
  }

  /** Feeds bytes from the browser; returns the bytes to send on to the server (possibly none). */
  push(chunk: Uint8Array, isController: boolean): Uint8Array {
    const out: Uint8Array[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (this.#body > 0) {
        const n = Math.min(this.#body, chunk.length - at);
        if (this.#bodyPasses) out.push(chunk.subarray(at, at + n));
        this.#body -= n;
        at += n;
        continue;
      }
      if (this.#len === 0) this.#startedAsController = isController;
      const want = this.#wanted();
      const n = Math.min(want - this.#len, chunk.length - at);
      this.#append(chunk.subarray(at, at + n));
      at += n;
      if (this.#len < want || this.#wanted() > this.#len) continue;
      this.#complete(out);
    }
    return concat(out);
  }

  /** Total bytes the current unit needs, given the bytes of it seen so far (may grow as they arrive). */
  #wanted(): number {
    const h = this.#head, len = this.#len;
    switch (this.#phase) {
      case "version":
        return 12;
      case "security":
      case "clientInit":
        return 1;
      case "vncAuth":
        return 16;
    }
    if (len === 0) return 1;
    switch (h[0]) {
      case RFB_MESSAGE.setPixelFormat:
        return 20;
      case RFB_MESSAGE.setEncodings: {
        if (len < 4) return 4;
        const count = (h[2] << 8) | h[3];
        if (count > MAX_ENCODINGS) throw new RfbProtocolError(`SetEncodings lists ${count} encodings.`);
        return 4 + 4 * count;
      }
      case RFB_MESSAGE.framebufferUpdateRequest:
      case RFB_MESSAGE.enableContinuousUpdates:
        return 10;
      case RFB_MESSAGE.keyEvent:
        return 8;
      case RFB_MESSAGE.pointerEvent:
        return 6;
      case RFB_MESSAGE.clientCutText:
        return 8;
      case RFB_MESSAGE.clientFence:
        return len < 9 ? 9 : 9 + h[8];
      case RFB_MESSAGE.xvp:
        return 4;
      case RFB_MESSAGE.setDesktopSize:
        return len < 8 ? 8 : 8 + 16 * h[6];
      case RFB_MESSAGE.qemu:
        if (len < 2) return 2;
        if (h[1] !== 0) throw new RfbProtocolError(`Unsupported QEMU client message ${h[1]}.`);
        return 12;
      default:
        throw new RfbProtocolError(`Unknown RFB client message type ${h[0]}.`);
    }
  }

  /** The current unit is whole in the head buffer: pass or drop it and move on. */
  #complete(out: Uint8Array[]): void {
    const unit = this.#head.slice(0, this.#len);
    this.#len = 0;
    switch (this.#phase) {
      case "version": {
        const text = new TextDecoder().decode(unit);
        if (text !== "RFB 003.008\n" && text !== "RFB 003.007\n") {
          throw new RfbProtocolError(`Unsupported RFB version ${JSON.stringify(text)}.`);
        }
        this.#phase = "security";
        break;
      }
      case "security":
        if (unit[0] === 1) this.#phase = "clientInit";
        else if (unit[0] === 2) this.#phase = "vncAuth";
        else throw new RfbProtocolError(`Unsupported RFB security type ${unit[0]}.`);
        break;
      case "vncAuth":
        this.#phase = "clientInit";
        break;
      case "clientInit":
        this.#phase = "messages";
        break;
      case "messages":
        return this.#message(unit, this.#startedAsController, out);
    }
    out.push(unit);
  }

  #message(unit: Uint8Array, isController: boolean, out: Uint8Array[]): void {
    const type = unit[0];
    const passes = isController || !INPUT.has(type);
    if (!passes) this.dropped++;
    if (type === RFB_MESSAGE.clientCutText) {
      // A negative length (as a signed 32-bit number) is the extended clipboard format; its size is the absolute value.
      const raw = new DataView(unit.buffer, unit.byteOffset).getInt32(4);
      const length = Math.abs(raw);
      if (length > MAX_CUT_TEXT) throw new RfbProtocolError(`Clipboard text of ${length} bytes is too large.`);
      this.#body = length;
      this.#bodyPasses = passes;
    }
    if (!passes) return;
    out.push(type === RFB_MESSAGE.setEncodings ? withoutExtendedMouse(unit) : unit);
  }

  #append(bytes: Uint8Array): void {
    if (this.#len + bytes.length > this.#head.length) {
      const grown = new Uint8Array(Math.max(this.#head.length * 2, this.#len + bytes.length));
      grown.set(this.#head.subarray(0, this.#len));
      this.#head = grown;
    }
    this.#head.set(bytes, this.#len);
    this.#len += bytes.length;
  }
}

/** A SetEncodings message without the ExtendedMouseButtons pseudo-encoding. */
function withoutExtendedMouse(unit: Uint8Array): Uint8Array {
  const view = new DataView(unit.buffer, unit.byteOffset, unit.length);
  const kept: number[] = [];
  for (let at = 4; at < unit.length; at += 4) {
    const encoding = view.getInt32(at);
    if (encoding !== EXTENDED_MOUSE_BUTTONS) kept.push(encoding);
  }
  if (kept.length * 4 + 4 === unit.length) return unit;
  const out = new Uint8Array(4 + 4 * kept.length);
  const w = new DataView(out.buffer);
  out[0] = RFB_MESSAGE.setEncodings;
  w.setUint16(2, kept.length);
  kept.forEach((e, i) => w.setInt32(4 + 4 * i, e));
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
