/** IPv4 subnets for instance networks: each instance gets its own block of one shared pool. */

export interface Cidr {
  base: number;
  prefix: number;
}

/** Parses "a.b.c.d/n" (IPv4 only); throws on anything else. */
export function parseCidr(text: string): Cidr {
  const m = text.trim().match(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/);
  const octets = m?.slice(1, 5).map(Number) ?? [];
  const prefix = Number(m?.[5]);
  if (!m || octets.some((o) => o > 255) || prefix > 32) throw new TypeError(`"${text}" is not an IPv4 CIDR`);
  const addr = octets.reduce((a, o) => a * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  return { base: addr - (addr % size), prefix };
}

export function formatIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
}

export function formatCidr(c: Cidr): string {
  return `${formatIp(c.base)}/${c.prefix}`;
}

const size = (c: Cidr) => 2 ** (32 - c.prefix);

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + size(b) && b.base < a.base + size(a);
}

/**
 * The first block of `/prefix` inside `pool` that overlaps none of `used` (any network the engine
 * has, ours or not), starting at block `start` and wrapping; undefined when the pool is full.
 */
export function freeBlock(pool: Cidr, prefix: number, used: Cidr[], start = 0): Cidr | undefined {
  const count = 2 ** (prefix - pool.prefix);
  for (let i = 0; i < count; i++) {
    const block = { base: pool.base + ((start + i) % count) * 2 ** (32 - prefix), prefix };
    if (!used.some((u) => overlaps(u, block))) return block;
  }
  return undefined;
}
