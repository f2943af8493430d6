/**
 * Pods' containers as real Podman containers (through Podman's Docker-compatible API with dockerode,
 * as plugins/docker does): one network per double so pod IPs are reachable from the host, named
 * volumes for PVCs and emptyDirs (mounted `nocopy`, so a volume starts empty as on a cluster), secret
 * files copied in with `putArchive` before start. Everything it makes carries the label
 * `claworc.kube-double=<id>`, and `close()` removes all of it.
 */
// @ts-types="npm:@types/dockerode@4.0.2"
import Docker from "dockerode";
// @ts-types="npm:@types/tar-stream@3.1.5"
import { pack } from "tar-stream";
import { Buffer } from "node:buffer";
import { demuxLog } from "../../../plugins/docker/demux.ts";
import type { ContainerObservation, ContainerSpec, FileEntry, ImageInfo, PodRuntime } from "./runtime.ts";

export const DOUBLE_LABEL = "claworc.kube-double";

type Coded = { statusCode?: number };
const ignore = (...codes: number[]) => (e: Coded) => {
  if (!codes.includes(e.statusCode ?? 0)) throw e;
};

export class PodmanRuntime implements PodRuntime {
  readonly kind = "podman";
  readonly docker: Docker;
  readonly network: string;

  constructor(socketPath: string, readonly id: string) {
    this.docker = new Docker({ socketPath });
    this.network = `kube-double-${id}`;
  }

  get labels(): Record<string, string> {
    return { [DOUBLE_LABEL]: this.id };
  }

  async init() {
    await this.docker.createNetwork({ Name: this.network, Labels: this.labels });
  }

  async image(ref: string): Promise<ImageInfo | null> {
    try {
      const info = await this.docker.getImage(ref).inspect();
      return { id: info.Id, user: info.Config?.User ?? "" };
    } catch (e) {
      if ((e as Coded).statusCode === 404) return null;
      throw e;
    }
  }

  async volumeExists(name: string): Promise<boolean> {
    try {
      await this.docker.getVolume(name).inspect();
      return true;
    } catch (e) {
      if ((e as Coded).statusCode === 404) return false;
      throw e;
    }
  }

  async ensureVolume(name: string, labels: Record<string, string>): Promise<boolean> {
    if (await this.volumeExists(name)) return false;
    // uid/gid given: Podman then leaves the root alone (no chown to the image's directory on first
    // mount), so a new volume starts root:root 0755 like a fresh filesystem, and only fsGroup changes it.
    await this.docker.createVolume({
      Name: name,
      Labels: { ...labels, ...this.labels },
      DriverOpts: { o: "uid=0,gid=0" },
    });
    return true;
  }

  async removeVolume(name: string) {
    await this.docker.getVolume(name).remove({ force: true }).catch(ignore(404));
  }

  /**
   * `rootMode` on the volume's root; with `fsGroup`, what the kubelet's SetVolumeOwnership does: group
   * fsGroup, group rw (rwx + setgid on directories), all the way down.
   */
  async prepareVolume(volume: string, opts: { fsGroup?: number; readOnly: boolean; rootMode?: number }) {
    const info = await this.docker.getVolume(volume).inspect();
    if (opts.rootMode !== undefined) await Deno.chmod(info.Mountpoint, opts.rootMode);
    if (opts.fsGroup === undefined) return;
    const gid = opts.fsGroup;
    const readOnly = opts.readOnly;
    const walk = async (path: string) => {
      const st = await Deno.lstat(path);
      if (st.isSymlink) return;
      await Deno.chown(path, null, gid);
      const mode = (st.mode ?? 0) & 0o7777;
      let next = mode | (readOnly ? 0o440 : 0o660);
      if (st.isDirectory) next |= 0o2000 | 0o110;
      if (next !== mode) await Deno.chmod(path, next);
      if (st.isDirectory) { for await (const e of Deno.readDir(path)) await walk(`${path}/${e.name}`); }
    };
    await walk(info.Mountpoint);
  }

  async createContainer(spec: ContainerSpec) {
    const binds: string[] = [];
    const tmpfs: Record<string, string> = {};
    for (const m of spec.mounts) {
      if (m.kind === "volume") binds.push(`${m.volume}:${m.path}:${m.readOnly ? "ro," : ""}nocopy`);
      else tmpfs[m.path] = m.sizeBytes ? `rw,size=${m.sizeBytes}` : "rw";
    }
    await this.docker.createContainer({
      name: spec.key,
      Hostname: spec.joinNetworkOf ? undefined : spec.hostname,
      Image: spec.image,
      Entrypoint: spec.entrypoint,
      Cmd: spec.cmd ?? (spec.entrypoint ? [] : undefined),
      Env: spec.env,
      WorkingDir: spec.workingDir,
      User: spec.user,
      Labels: { ...spec.labels, ...this.labels },
      HostConfig: {
        Binds: binds,
        Tmpfs: tmpfs,
        CapAdd: spec.capAdd,
        CapDrop: spec.capDrop,
        Privileged: spec.privileged,
        ReadonlyRootfs: spec.readOnlyRootfs,
        SecurityOpt: spec.noNewPrivileges ? ["no-new-privileges"] : [],
        GroupAdd: spec.groupAdd,
        Memory: spec.memoryBytes,
        MemorySwap: spec.memoryBytes,
        NanoCpus: spec.nanoCpus,
        NetworkMode: spec.joinNetworkOf ? `container:${spec.joinNetworkOf}` : this.network,
        RestartPolicy: { Name: "no" },
      },
    });
  }

  async copyFiles(key: string, files: FileEntry[]) {
    if (!files.length) return;
    const archive = pack();
    const dirs = new Set<string>();
    for (const f of files) {
      const parts = f.path.replace(/^\/+/, "").split("/");
      for (let i = 1; i < parts.length; i++) {
        const dir = parts.slice(0, i).join("/");
        if (dirs.has(dir)) continue;
        dirs.add(dir);
        archive.entry({ name: `${dir}/`, type: "directory", mode: 0o755 });
      }
      archive.entry({ name: parts.join("/"), mode: f.mode, uid: f.uid, gid: f.gid }, Buffer.from(f.content));
    }
    archive.finalize();
    const chunks: Buffer[] = [];
    for await (const chunk of archive) chunks.push(chunk as Buffer);
    await this.docker.getContainer(key).putArchive(Buffer.concat(chunks), { path: "/" });
  }

  async start(key: string) {
    await this.docker.getContainer(key).start().catch(ignore(304));
  }

  async remove(key: string, graceSeconds: number) {
    const c = this.docker.getContainer(key);
    await c.stop({ t: Math.max(0, Math.round(graceSeconds)) }).catch(ignore(304, 404));
    await c.remove({ force: true, v: true }).catch(ignore(404));
  }

  async inspect(key: string): Promise<ContainerObservation> {
    try {
      const info = await this.docker.getContainer(key).inspect();
      const nets = Object.values(info.NetworkSettings?.Networks ?? {});
      const s = info.State;
      const t = (v?: string) => (v && !v.startsWith("0001-") ? v : undefined);
      return {
        exists: true,
        running: s.Running,
        state: s.Status,
        exitCode: s.ExitCode,
        oomKilled: s.OOMKilled,
        startedAt: t(s.StartedAt),
        finishedAt: t(s.FinishedAt),
        ip: nets.find((n) => n.IPAddress)?.IPAddress || undefined,
        id: info.Id,
      };
    } catch (e) {
      if ((e as Coded).statusCode === 404) return { exists: false, running: false };
      throw e;
    }
  }

  async logs(key: string, tailLines?: number): Promise<string> {
    const raw = await this.docker.getContainer(key).logs({
      stdout: true,
      stderr: true,
      follow: false,
      ...(tailLines !== undefined ? { tail: tailLines } : {}),
    });
    return demuxLog(raw as unknown as Uint8Array);
  }

  async exec(key: string, cmd: string[], timeoutMs: number): Promise<number> {
    const exec = await this.docker.getContainer(key).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({});
    await Promise.race([
      new Promise((resolve) => {
        stream.on("end", resolve);
        stream.on("close", resolve);
        stream.on("error", resolve);
        stream.resume();
      }),
      new Promise((resolve) => setTimeout(resolve, timeoutMs)),
    ]);
    stream.destroy();
    const info = await exec.inspect();
    return info.Running ? -1 : info.ExitCode ?? -1;
  }

  async tcpProbe(ip: string, port: number, timeoutMs: number): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const conn = await Promise.race([
        Deno.connect({ hostname: ip, port }),
        new Promise<never>((_, reject) => timer = setTimeout(() => reject(new Error("timeout")), timeoutMs)),
      ]);
      conn.close();
      return true;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  async containers(): Promise<string[]> {
    const list = await this.docker.listContainers({ all: true, filters: { label: [`${DOUBLE_LABEL}=${this.id}`] } });
    return list.filter((c) => c.Labels?.[DOUBLE_LABEL] === this.id).map((c) => c.Names[0].replace(/^\//, ""));
  }

  async volumes(): Promise<string[]> {
    const { Volumes } = await this.docker.listVolumes({ filters: { label: [`${DOUBLE_LABEL}=${this.id}`] } });
    return (Volumes ?? []).filter((v) => v.Labels?.[DOUBLE_LABEL] === this.id).map((v) => v.Name);
  }

  async close() {
    for (const key of await this.containers()) {
      await this.docker.getContainer(key).remove({ force: true, v: true }).catch(ignore(404));
    }
    for (const v of await this.volumes()) await this.removeVolume(v);
    await this.docker.getNetwork(this.network).remove().catch(ignore(404));
  }
}
