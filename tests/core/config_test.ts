import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "../../core/config.ts";

const from = (env: Record<string, string>) => (name: string) => env[name];

Deno.test("defaults give a loopback server on port 8000 with ./data", () => {
  const c = loadConfig(from({}));
  assert.equal(c.dataPath, "./data");
  assert.equal(c.host, "127.0.0.1");
  assert.equal(c.port, 8000);
  assert.equal(c.secretKey, null);
  assert.deepEqual(c.allowedOrigins, []);
  assert.equal(c.cookieSecure, "auto");
  assert.equal(c.auditRetentionDays, 90);
});

Deno.test("the public URL and extra origins become the allowed origins", () => {
  const c = loadConfig(
    from({
      CLAWORC_PUBLIC_URL: "https://claworc.example.com/app",
      CLAWORC_ALLOWED_ORIGINS: "http://localhost:8000, https://b.example",
    }),
  );
  assert.deepEqual(c.allowedOrigins.sort(), [
    "http://localhost:8000",
    "https://b.example",
    "https://claworc.example.com",
  ]);
  assert.equal(c.publicUrl?.protocol, "https:");
});

Deno.test("invalid values stop start-up with a message naming the variable", () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ CLAWORC_PORT: "eighty" }, /CLAWORC_PORT="eighty"/],
    [{ CLAWORC_PORT: "70000" }, /CLAWORC_PORT/],
    [{ CLAWORC_PUBLIC_URL: "ftp://x" }, /CLAWORC_PUBLIC_URL/],
    [{ CLAWORC_COOKIE_SECURE: "yes" }, /CLAWORC_COOKIE_SECURE/],
    [{ CLAWORC_AUDIT_RETENTION_DAYS: "0" }, /CLAWORC_AUDIT_RETENTION_DAYS/],
    [{ CLAWORC_ALLOWED_ORIGINS: "not a url" }, /CLAWORC_ALLOWED_ORIGINS/],
    [{ CLAWORC_DATA_PATH: " " }, /CLAWORC_DATA_PATH/],
    [{ CLAWORC_LOG_LEVEL: "loud" }, /CLAWORC_LOG_LEVEL/],
  ];
  for (const [env, message] of cases) {
    assert.throws(
      () => loadConfig(from(env)),
      (e) => e instanceof ConfigError && message.test(e.message),
      JSON.stringify(env),
    );
  }
});

Deno.test("runtime backend: auto means kubernetes inside a pod; kubernetes options are parsed and checked", () => {
  const at = (env: Record<string, string>) => loadConfig((name) => env[name]);
  assert.equal(at({}).runtime, "docker");
  assert.equal(at({ KUBERNETES_SERVICE_HOST: "10.0.0.1" }).runtime, "kubernetes");
  assert.equal(at({ KUBERNETES_SERVICE_HOST: "10.0.0.1", CLAWORC_RUNTIME: "docker" }).runtime, "docker");
  const kube = at({
    CLAWORC_RUNTIME: "kubernetes",
    CLAWORC_KUBE_NAMESPACE: "agents",
    CLAWORC_KUBE_NODE_SELECTOR: "pool=agents, disk=ssd",
    CLAWORC_KUBE_TOLERATIONS: '[{"key":"agents","operator":"Exists","effect":"NoSchedule"}]',
  }).kube;
  assert.equal(kube.namespace, "agents");
  assert.deepEqual(kube.nodeSelector, { pool: "agents", disk: "ssd" });
  assert.deepEqual(kube.tolerations, [{ key: "agents", operator: "Exists", effect: "NoSchedule" }]);
  for (
    const [name, value] of [
      ["CLAWORC_RUNTIME", "swarm"],
      ["CLAWORC_KUBE_NAMESPACE", "Not_A_Name"],
      ["CLAWORC_KUBE_NODE_SELECTOR", "no-equals"],
      ["CLAWORC_KUBE_TOLERATIONS", '[{"operator":"Sometimes"}]'],
      ["CLAWORC_KUBE_TOLERATIONS", "not json"],
    ]
  ) {
    assert.throws(() => at({ [name]: value }), (e) => e instanceof ConfigError && e.message.includes(name));
  }
});

Deno.test("passkeys: the relying-party ID defaults to the public URL's host and must match it at start-up", () => {
  assert.deepEqual(loadConfig(from({})).webauthn, { rpId: null, rpName: "Claworc" });
  const pub = { CLAWORC_PUBLIC_URL: "https://claworc.corp.example.com" };
  assert.equal(loadConfig(from(pub)).webauthn.rpId, "claworc.corp.example.com");
  assert.equal(
    loadConfig(from({ ...pub, CLAWORC_WEBAUTHN_RP_ID: "Corp.Example.com" })).webauthn.rpId,
    "corp.example.com",
  );
  // An IP address cannot be an RP ID: passkeys then use the request's host name.
  assert.equal(loadConfig(from({ CLAWORC_PUBLIC_URL: "http://10.0.0.5:8000" })).webauthn.rpId, null);
  assert.equal(loadConfig(from({ CLAWORC_WEBAUTHN_RP_NAME: "Acme agents" })).webauthn.rpName, "Acme agents");

  const refused: [Record<string, string>, RegExp][] = [
    [{ ...pub, CLAWORC_WEBAUTHN_RP_ID: "other.example.com" }, /host claworc\.corp\.example\.com is not on that domain/],
    [{ ...pub, CLAWORC_WEBAUTHN_RP_ID: "example.com.evil" }, /CLAWORC_WEBAUTHN_RP_ID/],
    [{ CLAWORC_WEBAUTHN_RP_ID: "example.com" }, /needs CLAWORC_PUBLIC_URL/],
    [{ ...pub, CLAWORC_WEBAUTHN_RP_ID: "https://corp.example.com" }, /must be a domain name/],
    [{ ...pub, CLAWORC_WEBAUTHN_RP_ID: "10.0.0.5" }, /must be a domain name/],
    [{ CLAWORC_WEBAUTHN_RP_NAME: " " }, /CLAWORC_WEBAUTHN_RP_NAME/],
  ];
  for (const [env, message] of refused) {
    assert.throws(
      () => loadConfig(from(env)),
      (e) => e instanceof ConfigError && message.test(e.message),
      message.source,
    );
  }
});
