import assert from "node:assert/strict";
import { AppError } from "../../../core/errors.ts";
import { fromOption, parseSourceIps, sourceIpAllowed } from "../../../core/ssh/source_ips.ts";

Deno.test("valid entries are normalised to canonical addresses and networks", () => {
  assert.deepEqual(
    parseSourceIps([
      "10.0.0.0/8",
      " 192.0.2.7 ",
      "192.0.2.7/32",
      "10.1.2.3/8",
      "2001:DB8:0:0::/32",
      "2001:db8:1234::ff/32",
      "2001:0db8:0000:0000:0000:0000:0000:0001",
      "::ffff:10.1.2.3",
      "::ffff:172.16.5.4/108",
      "0.0.0.0/0",
      "::/0",
      "::1",
      "2001:db8:0:1:0:0:0:1",
      "1:0:0:2:0:0:0:3/128",
      "fe80::/10",
      "::1.2.3.4",
    ]),
    [
      "10.0.0.0/8",
      "192.0.2.7",
      "2001:db8::/32",
      "2001:db8::1",
      "10.1.2.3",
      "172.16.0.0/12",
      "0.0.0.0/0",
      "::/0",
      "::1",
      "2001:db8:0:1::1",
      "1:0:0:2::3",
      "fe80::/10",
      "::102:304",
    ],
  );
  assert.deepEqual(parseSourceIps([]), []);
});

Deno.test("invalid entries are refused with a message naming the entry", () => {
  const cases: [unknown, RegExp][] = [
    [["10.0.0.0/33"], /entry 1 "10\.0\.0\.0\/33".*0-32/],
    [["ok", "1.2.3.4"], /entry 1 "ok"/],
    [["1.2.3.4", ""], /entry 2 "" is empty/],
    [["1.2.3.4", "   "], /entry 2 .*empty/],
    [["2001:db8::/129"], /"2001:db8::\/129".*0-128/],
    [["1.2.3.4/"], /"1\.2\.3\.4\/"/],
    [["1.2.3.4/-1"], /"1\.2\.3\.4\/-1"/],
    [["1.2.3.4/8/8"], /"1\.2\.3\.4\/8\/8"/],
    [["256.1.1.1"], /"256\.1\.1\.1"/],
    [["010.1.1.1"], /"010\.1\.1\.1"/],
    [["fe80::1%eth0"], /"fe80::1%eth0"/],
    [["[::1]"], /"\[::1\]"/],
    [["1::2::3"], /"1::2::3"/],
    [["example.com"], /"example\.com"/],
    [["1.2.3.4,5.6.7.8"], /"1\.2\.3\.4,5\.6\.7\.8"/],
    [[42], /entry 1 is not a string/],
    [["1.2.3.4", null], /entry 2 is not a string/],
    ["10.0.0.0/8", /must be a list/],
    [null, /must be a list/],
    [Array.from({ length: 101 }, (_, i) => `10.0.0.${i}`), /at most 100/],
    [["x".repeat(500)], /"x{60}…"/],
  ];
  for (const [input, message] of cases) {
    assert.throws(
      () => parseSourceIps(input),
      (err) =>
        err instanceof AppError && err.code === "INVALID_SOURCE_IPS" && err.status === 400 &&
        message.test(err.message),
      `${JSON.stringify(input)?.slice(0, 80)} should fail with ${message}`,
    );
  }
  assert.equal(parseSourceIps(Array.from({ length: 100 }, (_, i) => `10.0.0.${i}`)).length, 100);
});

Deno.test("IPv4 and IPv6 addresses match their networks and nothing else", () => {
  const list = parseSourceIps(["10.0.0.0/8", "192.0.2.7", "2001:db8::/32", "fe80::1"]);
  for (const ip of ["10.0.0.1", "10.255.255.255", "192.0.2.7", "2001:db8::1", "2001:DB8:ffff::", "fe80::1"]) {
    assert.equal(sourceIpAllowed(list, ip), true, ip);
  }
  for (const ip of ["11.0.0.1", "192.0.2.8", "2001:db9::1", "fe80::2", "::1", "127.0.0.1", "", "nonsense", "10.0.0"]) {
    assert.equal(sourceIpAllowed(list, ip), false, ip);
  }
  assert.equal(sourceIpAllowed(list, "[2001:db8::5]"), true, "brackets are accepted");
  assert.equal(sourceIpAllowed(list, "fe80::1%eth0"), true, "a zone id is ignored");
});

Deno.test("IPv4-mapped IPv6 addresses match IPv4 entries (and mapped entries match IPv4 peers)", () => {
  const list = parseSourceIps(["10.0.0.0/8"]);
  assert.equal(sourceIpAllowed(list, "::ffff:10.1.2.3"), true);
  assert.equal(sourceIpAllowed(list, "::FFFF:a01:203"), true);
  assert.equal(sourceIpAllowed(list, "::ffff:11.1.2.3"), false);
  assert.equal(sourceIpAllowed(["::ffff:192.0.2.0/120"], "192.0.2.200"), true);
  assert.equal(sourceIpAllowed(["::ffff:192.0.2.0/120"], "192.0.3.1"), false);
  assert.equal(sourceIpAllowed(["::/0"], "10.1.2.3"), false, "an IPv6 catch-all does not cover IPv4");
  assert.equal(sourceIpAllowed(["0.0.0.0/0"], "::ffff:8.8.8.8"), true);
});

Deno.test("an empty list allows everything; a list of only garbage allows nothing", () => {
  assert.equal(sourceIpAllowed([], "203.0.113.9"), true);
  assert.equal(sourceIpAllowed([], "2001:db8::1"), true);
  assert.equal(sourceIpAllowed(["not an ip"], "203.0.113.9"), false);
});

Deno.test("fromOption gives the OpenSSH pattern list", () => {
  assert.equal(fromOption([]), null);
  assert.equal(fromOption(["192.0.2.7"]), "192.0.2.7");
  assert.equal(
    fromOption(parseSourceIps(["10.0.0.0/8", "192.0.2.7", "2001:db8::/32", "::ffff:10.1.2.3"])),
    "10.0.0.0/8,192.0.2.7,2001:db8::/32,10.1.2.3",
  );
  assert.equal(fromOption(["10.1.2.3/8"]), "10.0.0.0/8", "host bits are cleared (sshd rejects them)");
  assert.throws(() => fromOption(['1.2.3.4" command="x']), AppError, "never writes an injected option");
});
