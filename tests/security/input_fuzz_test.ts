import assert from "node:assert/strict";
import fc from "fast-check";
import type { z } from "zod";
import type { RouteInfo } from "../../core/http/router.ts";
import { ORIGIN, type TestApp, testApp } from "../_helpers/harness.ts";

/**
 * Hostile request bodies for every route that declares a body schema (found in the registry, so a new
 * route is fuzzed without touching this file), sent as an admin so authorization never hides the
 * answer. What is promised for each body, decided by what the server itself must do with it:
 * - larger than CLAWORC_MAX_BODY_BYTES → 413 PAYLOAD_TOO_LARGE;
 * - empty, or not JSON → 400 MALFORMED_JSON;
 * - JSON the route's schema refuses → 400 VALIDATION_FAILED, before the handler runs (so never the
 *   handler's 404 or 503 for a missing instance or backend);
 * - JSON the schema accepts (rare: `{}` for all-optional schemas) → whatever the handler answers, but
 *   never a 5xx other than 503 NO_BACKEND (no runtime backend here).
 * Every error is `{detail, code}` exactly (string detail, UPPER_SNAKE code) without a stack trace, no
 * body pollutes Object.prototype, and the app still answers /health afterwards.
 */

/** fast-check's seed: a failure names its run and this seed, and reproduces. */
const SEED = 0x5eed_c1a0;
/** Generated bodies per route (the fixed edge cases come on top). */
const RUNS_PER_ROUTE = 70;
/** One request taking longer than this is a failure (a regex or parser gone quadratic, a hang). */
const REQUEST_TIMEOUT_MS = 10_000;
/** Fuzz requests come from their own address, so login rate limits they trip touch nobody else. */
const FUZZ_IP = "192.0.2.66";

const CODE = /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/;
/** What a leaked stack or source location looks like. */
const STACK = /\bat [\w$.<>\[\] ]*\(?(file|https?|ext|node):|\.(ts|tsx|js|mjs):\d+:\d+|^\s*at\s/m;
/** Error codes documented to carry structured facts beside `{detail, code}` (AppError's `extra`). */
const EXTRA_KEYS: Record<string, string[]> = { CONFIG_INVALID: ["issues"], POLICY_CONFLICT: ["accounts"] };

const encoder = new TextEncoder();

/** A body as sent on the wire, with the content type it claims (none when null). */
interface Payload {
  body: string | Uint8Array<ArrayBuffer>;
  contentType: string | null;
}

type Expected = "PAYLOAD_TOO_LARGE" | "MALFORMED_JSON" | "VALIDATION_FAILED" | "accepted";

/** The property names of an object schema (none for other schemas: only generic keys are tried then). */
function knownKeys(schema: z.ZodType): string[] {
  const shape = (schema as unknown as { shape?: unknown }).shape;
  return shape && typeof shape === "object" ? Object.keys(shape) : [];
}

/** A concrete URL: the fuzz instance, the fuzz user, and any other parameter a harmless sample. */
function concretePath(path: string, ids: { instance: number; user: number }): string {
  const url = path.replace(/:id\b/g, String(ids.instance)).replace(/:userId\b/g, String(ids.user))
    .replace(/:\w+/g, "1").replace(/\/\*$/, "/x");
  assert.ok(!/[:*]/.test(url), `no sample value for a parameter of ${path}`);
  return url;
}

// --- Generators: JSON text built by hand, so raw number literals, duplicate keys and `__proto__`
// keys reach the server exactly as written (a JS object literal would set a prototype instead).

const json = (s: string) => JSON.stringify(s);
const objectText = (entries: [string, string][]) => `{${entries.map(([k, v]) => `${json(k)}:${v}`).join(",")}}`;
const nested = (depth: number, open: string, close: string, inner = "") =>
  open.repeat(depth) + inner + close.repeat(depth);

/** One UTF-16 unit of a surrogate half, alone: not valid Unicode, but a valid JSON escape. */
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
/** Direction overrides, zero-width and invisible characters, line separators, NUL, combining marks. */
const trickyChar = fc.constantFrom(
  "\u202e",
  "\u202d",
  "\u200f",
  "\u061c",
  "\u200b",
  "\u200d",
  "\u2060",
  "\ufeff",
  "\u2028",
  "\u2029",
  "\u0000",
  "\u001b",
  "\uffff",
  "\u0301",
  "\u{1d54f}",
  "\u{1f469}\u200d\u{1f469}\u200d\u{1f467}",
);
const nastyString = fc.string({
  unit: fc.oneof(
    loneSurrogate,
    trickyChar,
    fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
    fc.string({ unit: "binary-ascii", minLength: 1, maxLength: 1 }),
  ),
  maxLength: 40,
});
const trickyString = fc.constantFrom(
  "",
  " ",
  "NaN",
  "-NaN",
  "Infinity",
  "-Infinity",
  "1e308",
  "1e400",
  "-0",
  "0x10",
  "1_000",
  " 1 ",
  "null",
  "undefined",
  "true",
  "[]",
  "{}",
  "__proto__",
  "constructor",
  "prototype",
  "admin",
  "user",
  "../../../etc/passwd",
  "/home/agent/../../root/.ssh",
  "/home/agent/\u0000x",
  "%2e%2e%2f",
  "$(id)",
  "`id`",
  "'; DROP TABLE users; --",
  "<script>alert(1)</script>",
  "${7*7}",
  "http://127.0.0.1:18789/",
  "javascript:alert(1)",
  "anthropic/claude\u202e",
  "a".repeat(300),
);
/** Number literals as text: beyond double range, negative zero, denormals, unsafe integers. */
const numberText = fc.oneof(
  fc.constantFrom(
    "1e308",
    "-1e308",
    "1e400",
    "-1e400",
    "-0",
    "-0.0",
    "0e0",
    "5e-324",
    "1e-400",
    "9007199254740993",
    "-9007199254740993",
    "123456789012345678901234567890",
    "1.0000000000000000000000001",
    "0.1",
    "-1",
    "0",
    "1",
    "2147483648",
    "4294967296",
  ),
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
);

/** JSON text of a huge string (well under the body cap, so it is not a 413). */
function hugeStringText(cap: number) {
  return fc.record({
    fraction: fc.double({ min: 0.2, max: 0.6, noNaN: true }),
    ch: fc.constantFrom("a", "9", " ", "\u00e9", "\u202e", "\u200b", "\u{1f600}", "/"),
  }).map(({ fraction, ch }) => json(ch.repeat(Math.floor((cap * fraction) / encoder.encode(ch).length))));
}
/** Deeply nested arrays or objects. */
const deepText = fc.record({ depth: fc.integer({ min: 1_000, max: 12_000 }), objects: fc.boolean() })
  .map(({ depth, objects }) => objects ? nested(depth, '{"a":', "}", "1") : nested(depth, "[", "]"));
/** Arrays far longer than any schema allows. */
const longArrayText = fc.record({
  n: fc.integer({ min: 10_001, max: 60_000 }),
  item: fc.constantFrom("1", '"x"', "null"),
})
  .map(({ n, item }) => `[${Array(n).fill(item).join(",")}]`);

const PROTO_KEYS = [
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "valueOf",
  "__defineGetter__",
];

/** Everything for one route: its known keys mixed with prototype keys and junk ones. */
function payloadArb(known: string[], cap: number): fc.Arbitrary<Payload> {
  const key = fc.oneof(
    { weight: known.length ? 6 : 0, arbitrary: fc.constantFrom(...(known.length ? known : ["_"])) },
    { weight: 2, arbitrary: fc.constantFrom(...PROTO_KEYS) },
    { weight: 1, arbitrary: nastyString },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  );
  const leaf = fc.oneof(
    { weight: 4, arbitrary: nastyString.map(json) },
    { weight: 4, arbitrary: trickyString.map(json) },
    { weight: 4, arbitrary: numberText },
    { weight: 3, arbitrary: fc.constantFrom("true", "false", "null") },
    { weight: 1, arbitrary: hugeStringText(cap) },
    { weight: 1, arbitrary: deepText },
    { weight: 1, arbitrary: longArrayText },
  );
  const { value } = fc.letrec<{ value: string }>((tie) => ({
    value: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      leaf,
      fc.array(tie("value"), { maxLength: 4 }).map((xs) => `[${xs.join(",")}]`),
      fc.array(fc.tuple(key, tie("value")), { maxLength: 4 }).map(objectText),
    ),
  }));
  const object = fc.array(fc.tuple(key, value), { maxLength: 6 }).map(objectText);
  const contentType = fc.constantFrom(
    "application/json",
    "application/json",
    null,
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/json; charset=utf-16",
    "application/xml",
    "",
  );
  const garbage = fc.oneof(
    fc.string({ unit: "binary", maxLength: 60 }),
    fc.constantFrom(
      "{'a':1}",
      "{a:1}",
      "[1,]",
      '{"a":1,}',
      "NaN",
      "undefined",
      "// c\n{}",
      "{} {}",
      "{}x",
      "a=1&b=2",
      "<a/>",
      '"',
      "{",
      "\u0000",
    ),
  );
  const text = fc.oneof(
    { weight: 10, arbitrary: object },
    { weight: 3, arbitrary: value },
    // Truncated JSON: every proper prefix of an object is invalid.
    { weight: 3, arbitrary: fc.tuple(object, fc.nat()).map(([o, n]) => o.slice(0, n % o.length)) },
    { weight: 2, arbitrary: garbage },
  );
  return fc.oneof(
    { weight: 12, arbitrary: fc.record({ body: text, contentType }) },
    // Bytes that are not UTF-8 at all.
    {
      weight: 1,
      arbitrary: fc.record({
        body: fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => Uint8Array.from(b)),
        contentType,
      }),
    },
  );
}

/** The fixed edge cases every route gets, whatever the generators draw. */
function edgeCases(known: string[], cap: number): Payload[] {
  const deep = nested(10_000, "[", "]");
  const bodies: (string | Uint8Array<ArrayBuffer>)[] = [
    "",
    "  \n\t",
    "null",
    "[]",
    "{}",
    '"{}"',
    "0",
    "-0",
    "1e308",
    "1e400",
    deep,
    nested(10_000, '{"a":', "}", "null"),
    '{"__proto__":{"polluted":"yes","role":"admin","isAdmin":true}}',
    '{"constructor":{"prototype":{"polluted":"yes"}}}',
    '{"__proto__":null,"constructor":null,"prototype":null}',
    "\ufeff{}",
    '{"a":',
    Uint8Array.of(0xff, 0xfe, 0x7b, 0x7d),
    Uint8Array.of(0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d),
  ];
  const huge = json("x".repeat(Math.floor(cap * 0.9)));
  for (const k of known) {
    for (
      const v of [
        "null",
        "true",
        "1e308",
        "-0",
        "1e400",
        '"NaN"',
        '"\\ud800"',
        '"\\udfff\\ud800"',
        json("\u202e\u200b\u2060\ufeff"),
        '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}',
        '{"constructor":null}',
        '[{"__proto__":{"polluted":"yes"}}]',
        deep,
        `[${Array(100_000).fill("1").join(",")}]`,
        huge,
      ]
    ) bodies.push(objectText([[k, v]]));
    bodies.push(`{${json(k)}:1,${json(k)}:"dup"}`, objectText([[k, "null"], ["__proto__", '{"polluted":"yes"}']]));
  }
  return [
    ...bodies.map((body) => ({ body, contentType: "application/json" })),
    { body: '{"a":1}', contentType: "text/plain" },
    { body: "a=1&b=2", contentType: "application/x-www-form-urlencoded" },
    {
      body: "--x\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--x--\r\n",
      contentType: "multipart/form-data; boundary=x",
    },
    { body: "{}", contentType: null },
  ];
}

/** What the server must answer for `payload` on `route`, from the same steps it takes. */
async function expectationOf(route: RouteInfo, payload: Payload, cap: number): Promise<Expected> {
  const bytes = typeof payload.body === "string" ? encoder.encode(payload.body) : payload.body;
  if (bytes.length > cap) return "PAYLOAD_TOO_LARGE";
  const text = await new Response(bytes).text();
  if (text.trim() === "") return "MALFORMED_JSON";
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return "MALFORMED_JSON";
  }
  return route.body!.safeParse(value).success ? "accepted" : "VALIDATION_FAILED";
}

/** Checks an error body: `{detail, code}` exactly (plus documented extras), no stack trace. */
function errorBodyProblem(text: string, contentType: string, allowExtras: boolean): string | null {
  if (!contentType.includes("application/json")) return `not JSON (${contentType}): ${text.slice(0, 200)}`;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text);
  } catch {
    return `unparseable JSON: ${text.slice(0, 200)}`;
  }
  if (!body || typeof body !== "object" || Array.isArray(body)) return `not an object: ${text.slice(0, 200)}`;
  if (typeof body.detail !== "string" || !body.detail) return `detail is not a string: ${text.slice(0, 200)}`;
  if (typeof body.code !== "string" || !CODE.test(body.code)) return `code is not UPPER_SNAKE: ${text.slice(0, 200)}`;
  const extras = Object.keys(body).filter((k) => k !== "detail" && k !== "code");
  const allowed = allowExtras ? EXTRA_KEYS[body.code] ?? [] : [];
  if (extras.some((k) => !allowed.includes(k))) return `keys besides detail and code: ${extras.join(", ")}`;
  if (STACK.test(body.detail)) return `a stack trace in detail: ${body.detail.slice(0, 300)}`;
  return null;
}

interface Fuzz {
  t: TestApp;
  cap: number;
  ids: { instance: number; user: number };
  adminId: number;
  cookie: string;
  settings: ReturnType<TestApp["services"]["settings"]["get"]>;
  cases: number;
  /** Cases by what the server had to answer. */
  byExpected: Record<Expected, number>;
}

/** Sends one payload as the admin and returns what is wrong with the answer (null: nothing). */
async function probe(f: Fuzz, route: RouteInfo, payload: Payload): Promise<string | null> {
  const expected = await expectationOf(route, payload, f.cap);
  const headers: Record<string, string> = { origin: ORIGIN, cookie: f.cookie };
  if (payload.contentType !== null) headers["content-type"] = payload.contentType;
  const request = Promise.resolve(f.t.app.request(
    `${ORIGIN}${concretePath(route.path, f.ids)}`,
    { method: route.method, headers, body: payload.body },
    { remoteAddr: { hostname: FUZZ_IP } },
  ));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)), REQUEST_TIMEOUT_MS);
  });
  f.cases++;
  f.byExpected[expected]++;
  let res: Response;
  try {
    res = await Promise.race([request, timeout]);
  } finally {
    clearTimeout(timer);
  }
  const text = await res.text();
  const type = res.headers.get("content-type") ?? "";
  const shown = typeof payload.body === "string"
    ? `${payload.body.length} chars ${JSON.stringify(payload.body.slice(0, 120))}`
    : `bytes [${[...payload.body.slice(0, 32)]}]`;
  const what =
    `${route.method} ${route.path} with ${shown} (${payload.contentType}): expected ${expected}, got ${res.status}`;
  if (expected === "accepted") {
    // The handler ran: restore what it may have changed that later cases rely on.
    f.t.services.settings.update(f.settings);
    if (res.status < 400) return null;
    const problem = errorBodyProblem(text, type, true);
    if (problem) return `${what}: ${problem}`;
    // Past validation, the only 5xx allowed is the missing runtime backend.
    if (res.status >= 500 && !(res.status === 503 && JSON.parse(text).code === "NO_BACKEND")) {
      return `${what} ${text.slice(0, 300)}`;
    }
    return null;
  }
  const status = expected === "PAYLOAD_TOO_LARGE" ? 413 : 400;
  if (res.status !== status) return `${what} ${text.slice(0, 300)}`;
  const problem = errorBodyProblem(text, type, false);
  if (problem) return `${what}: ${problem}`;
  const { code, detail } = JSON.parse(text);
  if (code !== expected) return `${what} ${code}: ${detail}`;
  if (expected === "VALIDATION_FAILED" && !/^Invalid \S/.test(detail)) {
    return `${what}: detail names no field: ${detail}`;
  }
  return null;
}

const keyOf = (r: RouteInfo) => `${r.method} ${r.path}`;

/** Object.prototype's own names, to prove no body changed it. */
const protoNames = () => Object.getOwnPropertyNames(Object.prototype).sort();

async function world(): Promise<Fuzz> {
  const t = await testApp();
  await t.setupAdmin();
  const adminId = t.services.users.list().find((u) => u.role === "admin")!.id;
  // The user routes act on a plain user, never on the admin the requests come from.
  const user = (await t.services.users.create("fuzz-target", "fuzz-target-password-1", "user")).id;
  const instance = t.services.instances.insert("bot-fuzz", "Fuzz").id;
  return {
    t,
    cap: t.services.config.maxBodyBytes,
    ids: { instance, user },
    adminId,
    cookie: "",
    settings: t.services.settings.get(),
    cases: 0,
    byExpected: { PAYLOAD_TOO_LARGE: 0, MALFORMED_JSON: 0, VALIDATION_FAILED: 0, accepted: 0 },
  };
}

/** A fresh admin session (a fuzzed route may have ended the previous one, e.g. by a password change). */
function signIn(f: Fuzz): void {
  f.cookie = `claworc_session=${f.t.services.sessions.create(f.adminId, FUZZ_IP, "input-fuzz")}`;
}

Deno.test("every body route answers hostile JSON and non-JSON bodies with a 4xx {detail, code}, never a 5xx", async () => {
  const f = await world();
  const started = performance.now();
  try {
    const routes = f.t.registry.routes.filter((r) => r.body);
    assert.ok(routes.length > 0, "no route with a body schema was found to fuzz");
    const protoBefore = protoNames();
    const failures: string[] = [];
    for (const [i, route] of routes.entries()) {
      signIn(f);
      const known = knownKeys(route.body!);
      for (const payload of edgeCases(known, f.cap)) {
        const problem = await probe(f, route, payload);
        if (problem) failures.push(problem);
      }
      try {
        await fc.assert(
          fc.asyncProperty(payloadArb(known, f.cap), async (payload) => {
            const problem = await probe(f, route, payload);
            if (problem) throw new Error(problem);
          }),
          { seed: SEED + i, numRuns: RUNS_PER_ROUTE },
        );
      } catch (e) {
        failures.push(`${keyOf(route)} (seed ${SEED + i}): ${(e as Error).message.slice(0, 1500)}`);
      }
    }
    console.log(
      `input fuzz: ${routes.length} routes fuzzed, ${f.cases} cases run in ${
        Math.round(performance.now() - started)
      } ms (seed ${SEED}, ${RUNS_PER_ROUTE} generated per route; by expected answer ${JSON.stringify(f.byExpected)})`,
    );
    // The mix reached every stage: the JSON parser, the schemas, and handlers behind them.
    assert.ok(f.byExpected.MALFORMED_JSON > routes.length, "non-JSON bodies were sent");
    assert.ok(f.byExpected.VALIDATION_FAILED > routes.length * RUNS_PER_ROUTE / 2, "most bodies reach the schemas");
    assert.ok(f.byExpected.accepted > 0, "some bodies got past the schemas to a handler");
    assert.deepEqual(failures, []);
    assert.deepEqual(protoNames(), protoBefore, "Object.prototype was changed");
    // deno-lint-ignore no-explicit-any
    assert.equal(({} as any).polluted, undefined, "a body polluted Object.prototype");
    const health = await f.t.request("GET", "/health");
    assert.equal(health.status, 200, "the app still answers /health");
    assert.equal((await health.json()).status, "healthy");
  } finally {
    await f.t.close();
  }
});

Deno.test("a body over CLAWORC_MAX_BODY_BYTES answers 413 PAYLOAD_TOO_LARGE on every body route", async () => {
  const f = await world();
  try {
    signIn(f);
    const routes = f.t.registry.routes.filter((r) => r.body);
    assert.ok(routes.length > 0);
    const filler = (n: number) => `{"a":"${"x".repeat(n - 8)}"}`;
    const over = filler(f.cap + 1);
    assert.equal(encoder.encode(over).length, f.cap + 1);
    const failures: string[] = [];
    for (const route of routes) {
      const url = `${ORIGIN}${concretePath(route.path, f.ids)}`;
      const headers = { origin: ORIGIN, cookie: f.cookie, "content-type": "application/json" };
      // Declared by Content-Length, and streamed without one (counted while read).
      const declared = await f.t.app.request(url, {
        method: route.method,
        headers: { ...headers, "content-length": String(f.cap + 1) },
        body: over,
      });
      const streamed = await f.t.app.request(url, {
        method: route.method,
        headers,
        body: new Blob([over]).stream(),
      });
      // Exactly at the cap is not too large: the body is read (and refused by the schema, not the cap).
      const atCap = await f.t.app.request(url, { method: route.method, headers, body: filler(f.cap) });
      for (const [how, res, status] of [["declared", declared, 413], ["streamed", streamed, 413]] as const) {
        const text = await res.text();
        const problem = res.status !== status
          ? `status ${res.status} ${text.slice(0, 200)}`
          : errorBodyProblem(text, res.headers.get("content-type") ?? "", false) ??
            (JSON.parse(text).code !== "PAYLOAD_TOO_LARGE" ? `code ${JSON.parse(text).code}` : null);
        if (problem) failures.push(`${keyOf(route)} ${how}: ${problem}`);
      }
      const atCapText = await atCap.text();
      if (atCap.status === 413) failures.push(`${keyOf(route)}: a body of exactly the cap was refused as too large`);
      else if (atCap.status >= 500) {
        failures.push(`${keyOf(route)}: ${atCap.status} at the cap ${atCapText.slice(0, 200)}`);
      }
    }
    console.log(`body cap: ${routes.length} routes refused ${f.cap + 1} bytes, declared and streamed`);
    assert.deepEqual(failures, []);
    assert.equal((await f.t.request("GET", "/health")).status, 200);
  } finally {
    await f.t.close();
  }
});
