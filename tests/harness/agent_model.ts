import type { CoreServices } from "../../core/mod.ts";
import { until } from "./pool.ts";

/** A test app or a started server: anything with the SSH pool. */
type WithSsh = { services: Pick<CoreServices, "ssh"> };

/** Where the fake model listens inside the instance, and where it logs what it was asked. */
export const FAKE_MODEL_PORT = 18555;
export const FAKE_MODEL_LOG = "/tmp/fake-model.log";

/** One request the fake model received. */
export interface FakeModelRequest {
  path: string;
  auth: string;
  model: string | null;
  said: string;
}

/**
 * Starts the fake OpenAI-compatible model (`fake_model.mjs`) inside the instance with the agent's
 * own Node, reachable from the gateway at 127.0.0.1:FAKE_MODEL_PORT. `keys` (when given) are the only
 * API keys it accepts; others get 401.
 */
export async function startFakeModel(t: WithSsh, id: number, keys?: string[]): Promise<void> {
  const script = await Deno.readTextFile(new URL("./fake_model.mjs", import.meta.url));
  const keysFile = keys ? `printf '%s\\n' ${keys.map((k) => `'${k}'`).join(" ")} > ${FAKE_MODEL_LOG}.keys; ` : "";
  await t.services.ssh.exec(
    id,
    `cat > /tmp/fake_model.mjs <<'FAKE_MODEL_EOF'\n${script}\nFAKE_MODEL_EOF\n` +
      `rm -f ${FAKE_MODEL_LOG} ${FAKE_MODEL_LOG}.keys; ${keysFile}` +
      `nohup node /tmp/fake_model.mjs ${FAKE_MODEL_PORT} ${FAKE_MODEL_LOG} >/tmp/fake-model.out 2>&1 &`,
  );
  await until(
    async () => {
      const probe =
        `fetch("http://127.0.0.1:${FAKE_MODEL_PORT}/v1/models").then((r) => console.log(r.status), () => console.log(0))`;
      return (await t.services.ssh.exec(id, `node -e '${probe}'`)).stdout.trim() === "200";
    },
    15_000,
    "the fake model to listen",
  );
  await t.services.ssh.exec(id, `: > ${FAKE_MODEL_LOG}`);
}

/** What the fake model has been asked so far. */
export async function fakeModelRequests(t: WithSsh, id: number): Promise<FakeModelRequest[]> {
  const out = await t.services.ssh.exec(id, `cat ${FAKE_MODEL_LOG} 2>/dev/null || true`, { maxOutput: 8 << 20 });
  return out.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

/** An OpenClaw provider entry for the fake model (the shape environment.md documents). */
export function fakeProvider(apiKey: string, modelIds = ["fake-model"]) {
  return {
    baseUrl: `http://127.0.0.1:${FAKE_MODEL_PORT}/v1`,
    apiKey,
    api: "openai-completions",
    models: modelIds.map((id) => ({
      id,
      name: id,
      reasoning: false,
      input: ["text"],
      cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
      contextWindow: 32_000,
      maxTokens: 4_096,
    })),
  };
}

/**
 * Writes `config` as the instance's OpenClaw configuration and restarts the gateway (supervisor brings
 * it back), then waits until a new gateway process answers on its tunnel.
 */
export async function applyOpenclawConfigForTest(
  t: { services: Pick<CoreServices, "ssh" | "agentConfig"> },
  id: number,
  config: unknown,
): Promise<void> {
  await t.services.ssh.exec(
    id,
    `cat > ~/.openclaw/openclaw.json <<'CFG_EOF'\n${JSON.stringify(config, null, 2)}\nCFG_EOF`,
  );
  await t.services.agentConfig.restartGateway(id);
}

/**
 * A `PUT /api/v1/models` body choosing the fake model through Claworc's custom provider "fake": its
 * models (the first is the default) and `keys` by provider (the fake one's and any others).
 */
export function fakeModelsChoice(keys: Record<string, string>, models = ["fake-model"]) {
  return {
    custom_providers: [{ id: "fake", label: "Fake", base_url: `http://127.0.0.1:${FAKE_MODEL_PORT}/v1`, models }],
    primary: `fake/${models[0]}`,
    keys,
  };
}
