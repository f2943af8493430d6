/**
 * A container engine without containers, for API-level tests that do not need Podman: a container
 * "runs" as soon as it is started, gets an address in 127.0.1.0/24 (loopback, so nothing ever leaves
 * the machine), writes `started <key>` to its log, and exits only when a test says so with `exit()`.
 * Images exist unless listed in `missingImages`.
 */
import type { ContainerObservation, ContainerSpec, FileEntry, ImageInfo, PodRuntime } from "./runtime.ts";

interface SimContainer {
  spec: ContainerSpec;
  running: boolean;
  exitCode?: number;
  startedAt?: string;
  finishedAt?: string;
  ip?: string;
  log: string;
  files: Map<string, FileEntry>;
}

export class SimulatedRuntime implements PodRuntime {
  readonly kind = "simulated";
  readonly containersByKey = new Map<string, SimContainer>();
  readonly volumeNames = new Set<string>();
  readonly missingImages = new Set<string>();
  #nextIp = 2;

  init() {
    return Promise.resolve();
  }

  image(ref: string): Promise<ImageInfo | null> {
    return Promise.resolve(this.missingImages.has(ref) ? null : { id: `sha256:${ref.length}`, user: "" });
  }

  ensureVolume(name: string): Promise<boolean> {
    const created = !this.volumeNames.has(name);
    this.volumeNames.add(name);
    return Promise.resolve(created);
  }

  volumeExists(name: string) {
    return Promise.resolve(this.volumeNames.has(name));
  }

  removeVolume(name: string) {
    this.volumeNames.delete(name);
    return Promise.resolve();
  }

  prepareVolume() {
    return Promise.resolve();
  }

  createContainer(spec: ContainerSpec) {
    this.containersByKey.set(spec.key, { spec, running: false, log: "", files: new Map() });
    return Promise.resolve();
  }

  copyFiles(key: string, files: FileEntry[]) {
    const c = this.containersByKey.get(key);
    for (const f of files) c?.files.set(f.path, f);
    return Promise.resolve();
  }

  start(key: string) {
    const c = this.containersByKey.get(key);
    if (c) {
      c.running = true;
      c.startedAt = new Date().toISOString();
      c.exitCode = undefined;
      c.ip ??= c.spec.joinNetworkOf
        ? this.containersByKey.get(c.spec.joinNetworkOf)?.ip
        : `127.0.1.${this.#nextIp++ % 250 + 2}`;
      c.log += `started ${key}\n`;
    }
    return Promise.resolve();
  }

  /** Makes a running container exit with `code` (a crash, or a clean exit with 0). */
  exit(key: string, code: number) {
    const c = this.containersByKey.get(key);
    if (!c) throw new Error(`no simulated container ${key}`);
    c.running = false;
    c.exitCode = code;
    c.finishedAt = new Date().toISOString();
    c.log += `exited ${code}\n`;
  }

  remove(key: string) {
    this.containersByKey.delete(key);
    return Promise.resolve();
  }

  inspect(key: string): Promise<ContainerObservation> {
    const c = this.containersByKey.get(key);
    if (!c) return Promise.resolve({ exists: false, running: false });
    return Promise.resolve({
      exists: true,
      running: c.running,
      state: c.running ? "running" : c.startedAt ? "exited" : "created",
      exitCode: c.exitCode,
      startedAt: c.startedAt,
      finishedAt: c.finishedAt,
      ip: c.running ? c.ip : undefined,
      id: key,
    });
  }

  logs(key: string, tailLines?: number) {
    const lines = (this.containersByKey.get(key)?.log ?? "").split("\n").slice(0, -1);
    const tail = tailLines === undefined ? lines : lines.slice(Math.max(0, lines.length - tailLines));
    return Promise.resolve(tail.map((l) => `${l}\n`).join(""));
  }

  exec(key: string) {
    return Promise.resolve(this.containersByKey.get(key)?.running ? 0 : 1);
  }

  tcpProbe() {
    return Promise.resolve(true);
  }

  containers() {
    return Promise.resolve([...this.containersByKey.keys()]);
  }

  volumes() {
    return Promise.resolve([...this.volumeNames]);
  }

  close() {
    this.containersByKey.clear();
    this.volumeNames.clear();
    return Promise.resolve();
  }
}
