import assert from "node:assert/strict";
import { formatCidr, freeBlock, overlaps, parseCidr } from "../../../plugins/docker/subnets.ts";

Deno.test("instance subnets: parsing, overlap, and the first free block of the pool", () => {
  assert.equal(formatCidr(parseCidr("10.213.7.9/16")), "10.213.0.0/16", "host bits are cleared");
  for (const bad of ["10.0.0.0", "300.1.1.1/8", "10.0.0.0/33", "fe80::/64"]) {
    assert.throws(() => parseCidr(bad), TypeError);
  }
  assert.ok(overlaps(parseCidr("10.213.0.0/16"), parseCidr("10.213.4.0/26")));
  assert.ok(!overlaps(parseCidr("10.213.0.0/26"), parseCidr("10.213.0.64/26")));
  const pool = parseCidr("10.213.0.0/24");
  const used = [parseCidr("10.213.0.0/26"), parseCidr("10.213.0.128/25"), parseCidr("172.17.0.0/16")];
  assert.equal(formatCidr(freeBlock(pool, 26, used)!), "10.213.0.64/26");
  assert.equal(formatCidr(freeBlock(pool, 26, [], 3)!), "10.213.0.192/26", "starts where asked");
  assert.equal(freeBlock(pool, 26, [parseCidr("10.0.0.0/8")]), undefined, "full pool");
});
