/**
 * Refreshes the README's pictures (docs/screenshots/) from the shots the browser tests save in
 * test-results/screenshots/ (git-ignored). Run those tests first (each entry below names its test), then
 * `deno task screenshots`. Full-page shots taller than `MAX_HEIGHT` are cut to their top part, so each picture
 * stays about one screen high and the folder stays small. PNG files only; nothing is drawn or resized.
 */
import { Buffer } from "node:buffer";
import { deflateSync, inflateSync } from "node:zlib";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export interface ReadmeShot {
  /** The file under docs/screenshots/ (what the README links to). */
  file: string;
  /** The shot a browser test saves as `test-results/screenshots/<source>.png`. */
  source: string;
  /** The browser test that saves it (run it when the shot is missing or stale). */
  test: string;
  /** What it shows, in a line. */
  caption: string;
}

/** Where the browser tests save their shots (`SHOTS` in tests/_helpers/browser.ts; a test checks they agree). */
export const SHOTS = "test-results/screenshots";
/** Where the pictures go, relative to the project folder. */
export const DOCS_SHOTS = "docs/screenshots";
/** Taller shots are cut to this many pixels from the top (the browser tests' viewport is 1280×900). */
export const MAX_HEIGHT = 900;
/** The folder's budget: the script refuses to write more than this. */
export const MAX_TOTAL_BYTES = 2_000_000;

/** Every picture in docs/screenshots/, and the browser test that takes it. */
export const README_SHOTS: readonly ReadmeShot[] = [
  {
    file: "dashboard.png",
    source: "12-dashboard-clone-first",
    test: "tests/browser/instances_page_test.ts",
    caption: "The dashboard: two instances on Podman, running, SSH connected; the clone is still starting.",
  },
  {
    file: "create-progress.png",
    source: "10-create-progress",
    test: "tests/browser/instances_page_test.ts",
    caption: "Creating an instance shows each step live.",
  },
  {
    file: "instance-chat.png",
    source: "chat-tab",
    test: "tests/plugins/chat/browser_test.ts",
    caption: "An instance's Chat tab: a conversation with its OpenClaw agent, through the agent's gateway.",
  },
  {
    file: "instance-browser.png",
    source: "desktop-tab",
    test: "tests/plugins/desktop/browser_test.ts",
    caption: "The Browser tab: the agent's own Chromium over noVNC, view only until you take control.",
  },
  {
    file: "instance-terminal.png",
    source: "terminal-tab",
    test: "tests/plugins/terminal/browser_test.ts",
    caption: "The Terminal tab: a shell in the instance (tmux over SSH), recorded when an admin turns that on.",
  },
  {
    file: "instance-files.png",
    source: "files-02-editing",
    test: "tests/plugins/files/browser_test.ts",
    caption: "The Files tab: browse, upload, download, rename, delete, and edit a text file.",
  },
  {
    file: "instance-logs.png",
    source: "logs-01-following",
    test: "tests/plugins/logs/browser_test.ts",
    caption: "The Logs tab following the instance's SSH server log live.",
  },
  {
    file: "instance-config.png",
    source: "config-01-loaded",
    test: "tests/plugins/config/browser_test.ts",
    caption: "The Config tab: OpenClaw's openclaw.json, checked before it is saved.",
  },
  {
    file: "models.png",
    source: "models-01-editing",
    test: "tests/plugins/models/browser_test.ts",
    caption: "Models & keys: the default model, fallbacks and provider keys every instance gets.",
  },
  {
    file: "users.png",
    source: "03-users",
    test: "tests/browser/ui_flow_test.ts",
    caption: "Users: roles, assigned instances, passkeys, password resets.",
  },
  {
    file: "audit.png",
    source: "04-audit",
    test: "tests/browser/ui_flow_test.ts",
    caption: "The audit log, with filters.",
  },
  {
    file: "account-passkeys.png",
    source: "passkeys-01-account",
    test: "tests/browser/passkeys_test.ts",
    caption: "Account: passkeys (named, renamed, deleted), password and sessions.",
  },
  {
    file: "dashboard-phone.png",
    source: "08-dashboard-phone",
    test: "tests/browser/ui_flow_test.ts",
    caption: "The dashboard on a phone-sized screen.",
  },
];

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

interface Chunk {
  type: string;
  data: Uint8Array;
}

/** The chunks of a PNG file; throws when the bytes are not one. */
export function pngChunks(bytes: Uint8Array): Chunk[] {
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) throw new Error("not a PNG file (signature)");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks: Chunk[] = [];
  for (let at = 8; at < bytes.length;) {
    if (at + 12 > bytes.length) throw new Error("truncated PNG chunk");
    const length = view.getUint32(at);
    const type = new TextDecoder().decode(bytes.subarray(at + 4, at + 8));
    if (at + 12 + length > bytes.length) throw new Error(`truncated PNG chunk ${type}`);
    chunks.push({ type, data: bytes.subarray(at + 8, at + 8 + length) });
    at += 12 + length;
    if (type === "IEND") break;
  }
  if (chunks[0]?.type !== "IHDR" || chunks[0].data.length !== 13) throw new Error("PNG without IHDR first");
  if (chunks.at(-1)?.type !== "IEND") throw new Error("PNG without IEND");
  return chunks;
}

/** Width and height from a PNG's IHDR. */
export function pngSize(bytes: Uint8Array): { width: number; height: number } {
  const ihdr = pngChunks(bytes)[0].data;
  const view = new DataView(ihdr.buffer, ihdr.byteOffset, ihdr.byteLength);
  return { width: view.getUint32(0), height: view.getUint32(4) };
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(parts: Uint8Array[]): number {
  let c = 0xffffffff;
  for (const part of parts) for (const b of part) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function encodeChunk({ type, data }: Chunk): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  const name = new TextEncoder().encode(type);
  view.setUint32(0, data.length);
  out.set(name, 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32([name, data]));
  return out;
}

/** Samples per pixel of each PNG colour type. */
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/**
 * The top `height` rows of a PNG. Each row of a non-interlaced PNG is filtered against the row above it at
 * most, so the first rows of the decompressed image data are, as they are, a complete smaller image.
 */
export function cropPngTop(bytes: Uint8Array, height: number): Uint8Array {
  const chunks = pngChunks(bytes);
  const ihdr = chunks[0].data.slice();
  const view = new DataView(ihdr.buffer);
  const width = view.getUint32(0);
  const [depth, colour, , , interlace] = ihdr.subarray(8);
  if (view.getUint32(4) <= height) return bytes;
  if (interlace !== 0) throw new Error("cannot crop an interlaced PNG");
  const channels = CHANNELS[colour];
  if (!channels) throw new Error(`unknown PNG colour type ${colour}`);
  const rowBytes = 1 + Math.ceil((width * channels * depth) / 8);
  const idat = chunks.filter((c) => c.type === "IDAT").map((c) => c.data);
  const raw = inflateSync(Buffer.concat(idat));
  const kept = raw.subarray(0, rowBytes * height);
  view.setUint32(4, height);
  const firstData = chunks.findIndex((c) => c.type === "IDAT");
  const out: Chunk[] = [
    { type: "IHDR", data: ihdr },
    ...chunks.slice(1, firstData).filter((c) => c.type !== "IDAT"),
    { type: "IDAT", data: new Uint8Array(deflateSync(kept, { level: 9 })) },
    ...chunks.slice(firstData).filter((c) => c.type !== "IDAT" && c.type !== "IEND"),
    { type: "IEND", data: new Uint8Array(0) },
  ];
  return new Uint8Array(Buffer.concat([new Uint8Array(SIGNATURE), ...out.map(encodeChunk)]));
}

async function main(): Promise<number> {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const from = join(root, SHOTS);
  const to = join(root, DOCS_SHOTS);
  const missing = [];
  for (const shot of README_SHOTS) {
    const found = await Deno.stat(join(from, `${shot.source}.png`)).then(() => true, () => false);
    if (!found) missing.push(shot);
  }
  if (missing.length > 0) {
    console.error(`Missing in ${SHOTS}/ (the browser tests save them there):`);
    for (const s of missing) console.error(`  ${s.source}.png (for ${s.file}) — taken by ${s.test}`);
    console.error("\nRun the tests that take them, one at a time, then this script again:");
    for (const test of new Set(missing.map((s) => s.test))) console.error(`  deno test -A ${test}`);
    return 1;
  }

  const made = new Map<string, Uint8Array>();
  for (const shot of README_SHOTS) {
    const bytes = await Deno.readFile(join(from, `${shot.source}.png`));
    const { width, height } = pngSize(bytes);
    const out = height > MAX_HEIGHT ? cropPngTop(bytes, MAX_HEIGHT) : bytes;
    const size = pngSize(out);
    made.set(shot.file, out);
    const cut = out === bytes ? "" : ` (cut from ${width}×${height})`;
    console.log(
      `${shot.file.padEnd(24)} ${`${size.width}×${size.height}`.padEnd(9)} ${kb(out.length)}  ← ${shot.source}${cut}`,
    );
  }
  const total = [...made.values()].reduce((n, b) => n + b.length, 0);
  if (total > MAX_TOTAL_BYTES) {
    console.error(`${kb(total)} in all, over the ${kb(MAX_TOTAL_BYTES)} budget: pick smaller shots.`);
    return 1;
  }
  await Deno.mkdir(to, { recursive: true });
  for (const [file, bytes] of made) await Deno.writeFile(join(to, file), bytes);
  for await (const entry of Deno.readDir(to)) {
    if (entry.isFile && entry.name.endsWith(".png") && !made.has(entry.name)) {
      await Deno.remove(join(to, entry.name));
      console.log(`removed ${DOCS_SHOTS}/${entry.name} (not in the list)`);
    }
  }
  console.log(`${made.size} pictures, ${kb(total)} in all, in ${DOCS_SHOTS}/`);
  return 0;
}

function kb(n: number): string {
  return `${(n / 1024).toFixed(0).padStart(4)} KiB`;
}

if (import.meta.main) Deno.exit(await main());
