import type { InstanceSpec } from "../../../core/mod.ts";
import { AGENT_IMAGE } from "../../../scripts/build_agent_image.ts";

/** A small instance of the real agent image, as the Podman tests of the Docker backend create it. */
export function agentSpec(id: number, name: string): InstanceSpec {
  return {
    id,
    name,
    image: AGENT_IMAGE,
    cpuRequest: "250m",
    cpuLimit: "1",
    memoryRequest: "256Mi",
    memoryLimit: "1Gi",
    files: {},
    volumes: { home: "1Gi" },
  };
}
