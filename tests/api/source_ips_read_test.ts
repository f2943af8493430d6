import assert from "node:assert/strict";
import { testApp } from "../_helpers/harness.ts";

/** The allow-list an admin sets can be read back (the reference shows it as the instance's `allowed_source_ips`). */
Deno.test("GET allowed-source-ips: the stored, normalised list, to admins only", async () => {
  const t = await testApp();
  try {
    const admin = await t.setupAdmin();
    const inst = t.services.instances.insert("bot-ip", "IP");
    const path = `/api/v1/instances/${inst.id}/allowed-source-ips`;
    const read = async (cookie: string | undefined, status = 200) => {
      const res = await t.request("GET", path, { cookie });
      const body = await res.json();
      assert.equal(res.status, status, JSON.stringify(body));
      return body;
    };

    assert.deepEqual(await read(admin), { allowed_source_ips: [] }, "empty: any address");
    const put = await t.request("PUT", path, {
      cookie: admin,
      body: { allowed_source_ips: [" 10.1.2.3/8 ", "2001:DB8::1", "10.0.0.0/8"] },
    });
    assert.equal(put.status, 200);
    assert.deepEqual(await read(admin), { allowed_source_ips: ["10.0.0.0/8", "2001:db8::1"] });

    const uid = await t.createUser(admin, "uma");
    const uma = await t.login("uma", "uma-password-1");
    await t.request("PUT", `/api/v1/users/${uid}/instances`, { cookie: admin, body: { instance_ids: [inst.id] } });
    assert.equal((await read(uma, 403)).code, "FORBIDDEN");
    assert.equal((await read(undefined, 401)).code, "UNAUTHENTICATED");

    const missing = await t.request("GET", "/api/v1/instances/999/allowed-source-ips", { cookie: admin });
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).code, "INSTANCE_NOT_FOUND");
    const bad = await t.request("GET", "/api/v1/instances/-1/allowed-source-ips", { cookie: admin });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).code, "BAD_REQUEST");
  } finally {
    await t.close();
  }
});
