import { BlockList, isIP } from "node:net";
import { AppError } from "../errors.ts";

/** Most entries one instance's allow-list may hold. */
export const MAX_SOURCE_IPS = 100;

/** One parsed entry: the network's bytes (host bits cleared) and its prefix length. */
interface Net {
  family: 4 | 6;
  bytes: Uint8Array;
  prefix: number;
}

/** Parses and normalises a list (array of strings); throws AppError("INVALID_SOURCE_IPS") naming any bad entry. */
export function parseSourceIps(entries: unknown): string[] {
  if (!Array.isArray(entries)) throw invalid("source IPs must be a list of addresses or CIDRs");
  if (entries.length > MAX_SOURCE_IPS) {
    throw invalid(`at most ${MAX_SOURCE_IPS} source IPs are allowed, got ${entries.length}`);
  }
  const out: string[] = [];
  entries.forEach((entry, i) => {
    if (typeof entry !== "string") throw invalid(`source IP entry ${i + 1} is not a string`);
    const net = parseNet(entry);
    if (typeof net === "string") throw invalid(`source IP entry ${i + 1} ${show(entry)} ${net}`);
    const text = formatNet(net);
    if (!out.includes(text)) out.push(text);
  });
  return out;
}

/** True when `ip` (v4 or v6, incl. IPv4-mapped IPv6 like ::ffff:10.1.2.3) matches any entry; an empty list allows everything. */
export function sourceIpAllowed(list: readonly string[], ip: string): boolean {
  if (list.length === 0) return true;
  const addr = parseAddress(ip.trim().replace(/^\[(.*)\]$/, "$1").replace(/%.*$/, ""));
  if (!addr) return false;
  const blocks = new BlockList();
  for (const entry of list) {
    // Entries are canonical when they come from parseSourceIps; anything else cannot match (fail closed).
    const net = parseNet(entry);
    if (typeof net === "string") continue;
    blocks.addSubnet(formatAddress(net), net.prefix, net.family === 4 ? "ipv4" : "ipv6");
  }
  return blocks.check(formatAddress(addr), addr.family === 4 ? "ipv4" : "ipv6");
}

/** The OpenSSH `from="..."` pattern list for an authorized_keys line; null for an empty list. */
export function fromOption(list: readonly string[]): string | null {
  if (list.length === 0) return null;
  // Canonical entries hold only hex digits, dots, colons and slashes: safe inside the quotes.
  return list.map((entry) => {
    const net = parseNet(entry);
    if (typeof net === "string") throw invalid(`source IP entry ${show(entry)} ${net}`);
    return formatNet(net);
  }).join(",");
}

function invalid(message: string): AppError {
  return new AppError("INVALID_SOURCE_IPS", message);
}

/** An entry quoted for a message, cut short when long. */
function show(entry: string): string {
  return JSON.stringify(entry.length > 60 ? `${entry.slice(0, 60)}…` : entry);
}

/** An address or CIDR as a network, or the reason it is not one. */
function parseNet(entry: string): Net | string {
  const text = entry.trim();
  if (text === "") return "is empty";
  const slash = text.indexOf("/");
  const addrText = slash === -1 ? text : text.slice(0, slash);
  const addr = parseAddress(addrText, false);
  if (!addr) return "is not an IPv4 or IPv6 address or CIDR";
  const width = addr.family === 4 ? 32 : 128;
  let prefix = width;
  if (slash !== -1) {
    const prefixText = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(prefixText)) return "has no valid prefix length";
    prefix = Number(prefixText);
    if (prefix > width) return `has a prefix length out of range (0-${width})`;
  }
  const net: Net = { family: addr.family, bytes: addr.bytes, prefix };
  // IPv4-mapped IPv6 networks are IPv4 networks (sshd and the matcher see the IPv4 form).
  if (net.family === 6 && prefix >= 96 && isMapped(net.bytes)) {
    return maskNet({ family: 4, bytes: net.bytes.slice(12), prefix: prefix - 96 });
  }
  return maskNet(net);
}

/** Clears the host bits. */
function maskNet(net: Net): Net {
  const bytes = net.bytes.slice();
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, net.prefix - i * 8));
    bytes[i] &= (0xff << (8 - keep)) & 0xff;
  }
  return { ...net, bytes };
}

/** A plain address (no zone, no brackets) as bytes; IPv4-mapped IPv6 becomes IPv4 unless `unmap` is false. */
function parseAddress(text: string, unmap = true): Omit<Net, "prefix"> | null {
  const family = isIP(text);
  if (family === 4) return { family: 4, bytes: parseV4(text) };
  if (family !== 6 || text.includes("%")) return null;
  const bytes = parseV6(text);
  if (unmap && isMapped(bytes)) return { family: 4, bytes: bytes.slice(12) };
  return { family: 6, bytes };
}

function parseV4(text: string): Uint8Array {
  return Uint8Array.from(text.split(".").map(Number));
}

/** Bytes of an IPv6 address that `isIP` accepted. */
function parseV6(text: string): Uint8Array {
  const groups = (part: string): number[] => {
    if (part === "") return [];
    const out: number[] = [];
    for (const piece of part.split(":")) {
      if (piece.includes(".")) {
        const [a, b, c, d] = parseV4(piece);
        out.push((a << 8) | b, (c << 8) | d);
      } else {
        out.push(parseInt(piece, 16));
      }
    }
    return out;
  };
  const gap = text.indexOf("::");
  const head = groups(gap === -1 ? text : text.slice(0, gap));
  const tail = gap === -1 ? [] : groups(text.slice(gap + 2));
  const all = [...head, ...new Array(8 - head.length - tail.length).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((g, i) => {
    bytes[i * 2] = g >> 8;
    bytes[i * 2 + 1] = g & 0xff;
  });
  return bytes;
}

function isMapped(bytes: Uint8Array): boolean {
  return bytes.length === 16 && bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff &&
    bytes[11] === 0xff;
}

/** Canonical text of an address: dotted IPv4 or RFC 5952 IPv6 (lowercase, longest zero run compressed). */
function formatAddress(addr: Omit<Net, "prefix">): string {
  if (addr.family === 4) return Array.from(addr.bytes).join(".");
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((addr.bytes[i] << 8) | addr.bytes[i + 1]);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(":");
  if (bestStart === -1) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

/** Canonical text of a network; a single address has no prefix. */
function formatNet(net: Net): string {
  const addr = formatAddress(net);
  return net.prefix === (net.family === 4 ? 32 : 128) ? addr : `${addr}/${net.prefix}`;
}
