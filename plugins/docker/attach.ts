// @ts-types="npm:@types/dockerode@4.0.2"
import type Docker from "dockerode";
import { AppError } from "../../core/mod.ts";
import { translateEngineError } from "./errors.ts";

type EngineError = { statusCode?: number; json?: { message?: string }; message?: string };

/**
 * Keeps the control plane's own container (`CLAWORC_DOCKER_ATTACH_CONTAINER`) connected to instance
 * networks. Each instance has its own isolated bridge; a control plane on the host reaches them all,
 * one in a container only reaches the networks it is connected to. Membership is read from the engine
 * each time (one inspect), never cached, so a container recreated or disconnected by hand is healed.
 */
export class SelfAttachment {
  constructor(
    private readonly docker: Docker,
    /** Name or id of the control plane's container. */
    readonly container: string,
    private readonly socketPath: string,
  ) {}

  /** The networks the container is on now; an unknown container is a configuration error. */
  async networks(): Promise<Set<string>> {
    const on = await this.#inspect();
    if (!on) throw this.#unknown();
    return on;
  }

  /** Connects the container to `network` unless it is on it already (a concurrent connect is fine). */
  async ensure(network: string): Promise<void> {
    if ((await this.networks()).has(network)) return;
    try {
      await this.docker.getNetwork(network).connect({ Container: this.container });
    } catch (e) {
      // Docker answers 403 and Podman 500 when it is connected already: what counts is the result.
      if ((await this.networks()).has(network)) return;
      throw this.#failed("connect to", network, e);
    }
  }

  /**
   * Disconnects the container from `network` (before the network is removed). Not connected, no such
   * network or no such container: nothing to do, so removing an instance never fails on this setting.
   */
  async release(network: string): Promise<void> {
    if (!(await this.#inspect())?.has(network)) return;
    try {
      await this.docker.getNetwork(network).disconnect({ Container: this.container, Force: true });
    } catch (e) {
      if ((e as EngineError).statusCode === 404 || !(await this.#inspect())?.has(network)) return;
      throw this.#failed("disconnect from", network, e);
    }
  }

  /** Connects to each of `networks` (instances that exist already); returns the ones newly joined. */
  async ensureAll(networks: string[]): Promise<string[]> {
    const on = await this.networks();
    const missing = networks.filter((n) => !on.has(n));
    for (const n of missing) await this.ensure(n);
    return missing;
  }

  /** The container's networks, or null when the engine has no such container. */
  async #inspect(): Promise<Set<string> | null> {
    try {
      const info = await this.docker.getContainer(this.container).inspect();
      return new Set(Object.keys(info.NetworkSettings.Networks ?? {}));
    } catch (e) {
      if ((e as EngineError).statusCode === 404) return null;
      throw translateEngineError(e, this.socketPath);
    }
  }

  #unknown(): AppError {
    return new AppError(
      "ENGINE_ERROR",
      `CLAWORC_DOCKER_ATTACH_CONTAINER names "${this.container}", but the container engine has no such container. ` +
        "Set it to the control plane's own container name (compose's container_name), or leave it empty when " +
        "Claworc runs on the engine's host.",
    );
  }

  #failed(what: string, network: string, e: unknown): AppError {
    const cause = translateEngineError(e, this.socketPath);
    return new AppError(cause.code, `Could not ${what} network ${network} (${this.container}): ${cause.message}`);
  }
}
