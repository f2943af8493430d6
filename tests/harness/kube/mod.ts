/** The Kubernetes API double for tests: see README.md in this folder. */
export { type KubeConfigObject, type KubeDouble, type KubeDoubleOptions, startKubeDouble } from "./double.ts";
export { Faults, type Verb } from "./faults.ts";
export { PodmanRuntime } from "./podman_runtime.ts";
export type { PodRuntime } from "./runtime.ts";
export { SimulatedRuntime } from "./simulated_runtime.ts";
export type { Status } from "./status.ts";
export type { KubeObject } from "./types.ts";
