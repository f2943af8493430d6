import assert from "node:assert/strict";
import { needsStateRepair } from "../../../core/openclaw/agent_config.ts";

Deno.test("a gateway that wants its state repaired is told apart from one refusing the configuration", () => {
  // Seen in CI: a configuration applied while the instance's first gateway was still migrating its state.
  assert.ok(needsStateRepair(
    'Gateway failed to start: OpenClaw config identity changed while persisting the refreshed plugin registry; refusing to write the migration checkpoint. Run "openclaw doctor --fix" and retry. | gateway.maintenance_required. Stop the service with openclaw gateway stop (or its service owner), then run openclaw doctor --fix, then start it again with openclaw gateway start.',
  ));
  assert.ok(needsStateRepair("Gateway failed to start: gateway.maintenance_required"));
  // A configuration OpenClaw's validator let through but the gateway refuses: rolled back, not repaired.
  assert.ok(
    !needsStateRepair(
      'Gateway failed to start: SecretRef provider "vault" is not defined (gateway.auth.token)',
    ),
  );
  assert.ok(!needsStateRepair("the gateway exited while starting"));
  assert.ok(!needsStateRepair("the gateway did not answer within 120 s"));
});
