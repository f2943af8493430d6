/** Client → server RFB messages as noVNC writes them (RFC 6143 §7.5 and extensions), for the desktop tests. */

export const text = (s: string) => new TextEncoder().encode(s);

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function message(length: number, fill: (v: DataView) => void): Uint8Array {
  const out = new Uint8Array(length);
  fill(new DataView(out.buffer));
  return out;
}

/** ProtocolVersion, security type None, ClientInit (shared). */
export const handshake = (version = "RFB 003.008\n") => concat(text(version), Uint8Array.of(1), Uint8Array.of(1));

export const setPixelFormat = () =>
  message(20, (v) => {
    v.setUint8(0, 0);
    v.setUint8(4, 32);
    v.setUint8(5, 24);
    v.setUint8(7, 1);
    v.setUint16(8, 255);
    v.setUint16(10, 255);
    v.setUint16(12, 255);
    v.setUint8(15, 8);
    v.setUint8(16, 16);
  });

export const setEncodings = (encodings: number[]) =>
  message(4 + 4 * encodings.length, (v) => {
    v.setUint8(0, 2);
    v.setUint16(2, encodings.length);
    encodings.forEach((e, i) => v.setInt32(4 + 4 * i, e));
  });

export const updateRequest = (incremental: boolean, x: number, y: number, w: number, h: number) =>
  message(10, (v) => {
    v.setUint8(0, 3);
    v.setUint8(1, incremental ? 1 : 0);
    v.setUint16(2, x);
    v.setUint16(4, y);
    v.setUint16(6, w);
    v.setUint16(8, h);
  });

export const key = (down: boolean, keysym: number) =>
  message(8, (v) => {
    v.setUint8(0, 4);
    v.setUint8(1, down ? 1 : 0);
    v.setUint32(4, keysym);
  });

export const pointer = (mask: number, x: number, y: number) =>
  message(6, (v) => {
    v.setUint8(0, 5);
    v.setUint8(1, mask);
    v.setUint16(2, x);
    v.setUint16(4, y);
  });

export const cutTextHeader = (length: number) =>
  message(8, (v) => {
    v.setUint8(0, 6);
    v.setUint32(4, length);
  });

export const cutText = (s: string) => {
  const body = new TextEncoder().encode(s);
  return concat(cutTextHeader(body.length), body);
};

/** The extended clipboard form: the length is negative. */
export const cutTextExtended = (body: Uint8Array) =>
  concat(
    message(8, (v) => {
      v.setUint8(0, 6);
      v.setInt32(4, -body.length);
    }),
    body,
  );

export const enableContinuousUpdates = () =>
  message(10, (v) => {
    v.setUint8(0, 150);
    v.setUint8(1, 1);
    v.setUint16(6, 640);
    v.setUint16(8, 480);
  });

export const fence = (payload: Uint8Array) =>
  concat(
    message(9, (v) => {
      v.setUint8(0, 248);
      v.setUint32(4, 1 << 31);
      v.setUint8(8, payload.length);
    }),
    payload,
  );

export const xvp = (op: number) => Uint8Array.of(250, 0, 1, op);

export const setDesktopSize = (w: number, h: number, screens: number) =>
  message(8 + 16 * screens, (v) => {
    v.setUint8(0, 251);
    v.setUint16(2, w);
    v.setUint16(4, h);
    v.setUint8(6, screens);
    for (let i = 0; i < screens; i++) {
      v.setUint32(8 + 16 * i, i);
      v.setUint16(8 + 16 * i + 8, w);
      v.setUint16(8 + 16 * i + 10, h);
    }
  });

export const qemuKey = (down: boolean, keysym: number, keycode: number) =>
  message(12, (v) => {
    v.setUint8(0, 255);
    v.setUint8(1, 0);
    v.setUint16(2, down ? 1 : 0);
    v.setUint32(4, keysym);
    v.setUint32(8, keycode);
  });
