// @ts-types="npm:@types/dockerode@4.0.2"
import type Docker from "dockerode";
import { AppError } from "../../core/mod.ts";

/**
 * Copies one volume into another with a short-lived helper container from the agent image (so no
 * other image is needed): source mounted read-only, no network, every capability dropped but the
 * ones `cp -a` needs to keep owners and modes.
 */
export async function copyVolume(docker: Docker, image: string, source: string, target: string): Promise<void> {
  await docker.getVolume(source).inspect().catch((e: { statusCode?: number }) => {
    if (e.statusCode === 404) throw new AppError("NOT_FOUND", `The volume ${source} to copy does not exist.`);
    throw e;
  });
  const helper = await docker.createContainer({
    Image: image,
    Entrypoint: ["/bin/sh", "-c", "cp -a /from/. /to/"],
    User: "0:0",
    Labels: { "managed-by": "claworc", "claworc.helper": "copy-volume" },
    NetworkDisabled: true,
    HostConfig: {
      Binds: [`${source}:/from:ro`, `${target}:/to`],
      NetworkMode: "none",
      CapDrop: ["ALL"],
      CapAdd: ["CHOWN", "FOWNER", "DAC_OVERRIDE"],
      SecurityOpt: ["no-new-privileges"],
    },
  });
  try {
    await helper.start();
    const { StatusCode } = await helper.wait() as { StatusCode: number };
    if (StatusCode !== 0) {
      const log = await helper.logs({ stdout: true, stderr: true, tail: 20 });
      throw new AppError(
        "ENGINE_ERROR",
        `Copying volume ${source} failed (exit ${StatusCode}): ${String(log).slice(-500)}`,
      );
    }
  } finally {
    await helper.remove({ force: true }).catch(() => {});
  }
}
