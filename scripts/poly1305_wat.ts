/**
 * The source of our Poly1305 (RFC 8439 §2.5) as WebAssembly text. `deno task build-poly1305` compiles
 * it into core/ssh/poly1305_wasm.ts; tests/core/ssh/poly1305_test.ts checks that the committed module
 * is this text compiled, and checks the tags it computes.
 *
 * The arithmetic is the classic 32-bit one: the accumulator h and the key's r in five 26-bit limbs,
 * 25 multiplications per 16-byte block, carries after each. What makes it faster than ssh2's
 * compiled C (BENCHMARKS.md): whole blocks go in pairs through two independent accumulators, a and b,
 * each multiplied by r² per pair (the last pair: a by r², b by r), so the processor works on two
 * multiplication chains at once. a + b then equals the one-lane result, since
 * Σ mᵢ·r^(n−i+1) splits into the odd and even blocks.
 *
 * Memory layout: the 32-byte key at 0 (r, then s), the tag written at 32, a scratch block at 48 for
 * the padded last partial block, the message from 64. `auth(len)` tags the `len` bytes at 64.
 */

/** Where the message starts in the module's memory. */
export const MESSAGE_AT = 64;
/** Where `auth` writes the 16-byte tag. */
export const TAG_AT = 32;

const MASK26 = "0x3ffffff";
const FULL_BLOCK = "(i64.const 0x1000000)"; // 2^128 in the top limb
const LIMBS = [0, 1, 2, 3, 4];

const get = (name: string) => `(local.get $${name})`;
const set = (name: string, value: string) => `(local.set $${name} ${value})`;
const add = (a: string, b: string) => `(i64.add ${a} ${b})`;
const mul = (a: string, b: string) => `(i64.mul ${a} ${b})`;
const shr = (a: string, bits: number) => `(i64.shr_u ${a} (i64.const ${bits}))`;
const and = (a: string, mask: string) => `(i64.and ${a} (i64.const ${mask}))`;
const load32 = (pointer: string, offset: number) => `(i64.load32_u offset=${offset} ${pointer})`;
const lines = (xs: string[]) => xs.join("\n");

/** Limb k of the 16 little-endian bytes at `pointer`: 26 bits from bit 26·k (byte 3k, shifted 2k). */
const limbAt = (pointer: string, k: number) => k === 0 ? load32(pointer, 0) : shr(load32(pointer, 3 * k), 2 * k);

/** h += the block at `pointer`, with `top` (2^128 for a whole block) added in the top limb. */
function absorb(h: string, pointer: string, top: string): string {
  return lines(
    LIMBS.map((k) =>
      set(
        `${h}${k}`,
        add(get(`${h}${k}`), k < 4 ? and(limbAt(pointer, k), MASK26) : `(i64.or ${limbAt(pointer, 4)} ${top})`),
      )
    ),
  );
}

/** h = d with carries propagated limb to limb, the top one folded back times 5 (2^130 ≡ 5). */
function carry(h: string, d: string): string {
  const out: string[] = [];
  for (let k = 0; k < 4; k++) {
    out.push(set(`${d}${k + 1}`, add(get(`${d}${k + 1}`), shr(get(`${d}${k}`), 26))));
    out.push(set(`${h}${k}`, and(get(`${d}${k}`), MASK26)));
  }
  out.push(set(`${h}0`, add(get(`${h}0`), mul(shr(get(`${d}4`), 26), "(i64.const 5)"))));
  out.push(set(`${h}4`, and(get(`${d}4`), MASK26)));
  out.push(set(`${h}1`, add(get(`${h}1`), shr(get(`${h}0`), 26))));
  out.push(set(`${h}0`, and(get(`${h}0`), MASK26)));
  return lines(out);
}

/** h = h · m mod 2^130 − 5 (partly reduced), m in limbs `${m}k` and 5·m in `s${m}k`. */
function multiply(h: string, m: string): string {
  const H = (k: number) => get(`${h}${k}`);
  // Limb i·j lands in limb i+j; past limb 4 it wraps around times 5.
  const factor = (i: number, j: number) => i + j < 5 ? get(`${m}${j}`) : get(`s${m}${j}`);
  const products = LIMBS.map((k) =>
    LIMBS.map((i) => mul(H(i), factor(i, (k - i + 5) % 5))).reduce((a, b) => add(a, b))
  );
  return lines([...products.map((p, k) => set(`d${h}${k}`, p)), carry(h, `d${h}`)]);
}

const setLimbs = (to: string, value: (k: number) => string) => lines(LIMBS.map((k) => set(`${to}${k}`, value(k))));
const timesFive = (m: string) =>
  lines([1, 2, 3, 4].map((k) => set(`s${m}${k}`, mul(get(`${m}${k}`), "(i64.const 5)"))));

/** The packed 32-bit word w (0–3) of the fully reduced h, plus s's word w and the carry in f. */
function finalWord(w: number): string {
  const packed = [
    `(i64.or ${get("a0")} (i64.shl ${get("a1")} (i64.const 26)))`,
    `(i64.or ${shr(get("a1"), 6)} (i64.shl ${get("a2")} (i64.const 20)))`,
    `(i64.or ${shr(get("a2"), 12)} (i64.shl ${get("a3")} (i64.const 14)))`,
    `(i64.or ${shr(get("a3"), 18)} (i64.shl ${get("a4")} (i64.const 8)))`,
  ][w];
  const sum = add(and(packed, "0xffffffff"), load32("(i32.const 0)", 16 + 4 * w));
  return lines([
    set("f", w === 0 ? sum : add(sum, shr(get("f"), 32))),
    `(i32.store (i32.const ${TAG_AT + 4 * w}) (i32.wrap_i64 ${get("f")}))`,
  ]);
}

/** The module's text. */
export function poly1305Wat(): string {
  const names = [
    ...["a", "b"].flatMap((lane) => LIMBS.flatMap((k) => [`${lane}${k}`, `d${lane}${k}`])),
    ...LIMBS.flatMap((k) => [`r${k}`, `sr${k}`, `q${k}`, `sq${k}`, `g${k}`]),
    "mask",
    "f",
  ];
  const key = "(i32.const 0)";
  const clamp = ["0x3ffffff", "0x3ffff03", "0x3ffc0ff", "0x3f03fff", "0x00fffff"];
  const partial = "(i32.and (local.get $len) (i32.const 15))";
  return `(module
  (memory (export "memory") 1)
  (func (export "auth") (param $len i32)
    (local $p i32) (local $end i32)
    ${names.map((n) => `(local $${n} i64)`).join(" ")}
    ;; r, clamped, and q = r^2; s-prefixed: times 5
    ${setLimbs("r", (k) => and(limbAt(key, k), clamp[k]))}
    ${timesFive("r")}
    ${setLimbs("a", (k) => get(`r${k}`))}
    ${multiply("a", "r")}
    ${setLimbs("q", (k) => get(`a${k}`))}
    ${timesFive("q")}
    ${setLimbs("a", () => "(i64.const 0)")}
    (local.set $p (i32.const ${MESSAGE_AT}))
    (local.set $end (i32.add (i32.const ${MESSAGE_AT}) (i32.and (local.get $len) (i32.const -16))))
    ;; an odd number of whole blocks: the first goes alone
    (if (i32.and (i32.shr_u (local.get $len) (i32.const 4)) (i32.const 1))
      (then
        ${absorb("a", "(local.get $p)", FULL_BLOCK)}
        ${multiply("a", "r")}
        (local.set $p (i32.add (local.get $p) (i32.const 16)))))
    (if (i32.lt_u (local.get $p) (local.get $end))
      (then
        ${setLimbs("b", () => "(i64.const 0)")}
        ;; every pair but the last: both lanes times r^2
        (block $last (loop $pair
          (br_if $last (i32.ge_u (i32.add (local.get $p) (i32.const 32)) (local.get $end)))
          ${absorb("a", "(local.get $p)", FULL_BLOCK)}
          ${absorb("b", "(i32.add (local.get $p) (i32.const 16))", FULL_BLOCK)}
          ${multiply("a", "q")}
          ${multiply("b", "q")}
          (local.set $p (i32.add (local.get $p) (i32.const 32)))
          (br $pair)))
        ;; the last pair: a times r^2, b times r; then h = a + b
        ${absorb("a", "(local.get $p)", FULL_BLOCK)}
        ${absorb("b", "(i32.add (local.get $p) (i32.const 16))", FULL_BLOCK)}
        ${multiply("a", "q")}
        ${multiply("b", "r")}
        (local.set $p (i32.add (local.get $p) (i32.const 32)))
        ${setLimbs("da", (k) => add(get(`a${k}`), get(`b${k}`)))}
        ${carry("a", "da")}))
    ;; a last partial block: its bytes, then 1, then zeros, and no 2^128
    (if ${partial}
      (then
        (i64.store (i32.const 48) (i64.const 0))
        (i64.store (i32.const 56) (i64.const 0))
        (memory.copy (i32.const 48) (local.get $p) ${partial})
        (i32.store8 (i32.add (i32.const 48) ${partial}) (i32.const 1))
        ${absorb("a", "(i32.const 48)", "(i64.const 0)")}
        ${multiply("a", "r")}))
    ;; h fully reduced: carried, then h - p taken instead when it does not go below 0
    ${carry("a", "a")}
    ${set("g0", add(get("a0"), "(i64.const 5)"))}
    ${
    lines([1, 2, 3].map((k) =>
      `${set(`g${k}`, add(get(`a${k}`), shr(get(`g${k - 1}`), 26)))} ${set(`g${k - 1}`, and(get(`g${k - 1}`), MASK26))}`
    ))
  }
    ${set("g4", `(i64.sub ${add(get("a4"), shr(get("g3"), 26))} (i64.const 0x4000000))`)}
    ${set("g3", and(get("g3"), MASK26))}
    ${set("mask", `(i64.sub ${shr(get("g4"), 63)} (i64.const 1))`)}
    ${
    setLimbs("a", (k) =>
      `(i64.or (i64.and ${get(`a${k}`)} (i64.xor ${get("mask")} (i64.const -1))) (i64.and ${get(`g${k}`)} ${
        get("mask")
      }))`)
  }
    ;; tag = (h + s) mod 2^128, little-endian
    ${lines([0, 1, 2, 3].map(finalWord))}
  )
)
`;
}
