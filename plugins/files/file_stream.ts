import type { Buffer } from "node:buffer";
import type { RemoteFs } from "./remote_fs.ts";

/** How a streamed download ended: the bytes sent, and the error or cancellation if it did not finish. */
export type StreamEnd = (sent: number, error?: unknown) => void;

interface Pending {
  position: number;
  length: number;
  data: Promise<Uint8Array>;
}

/**
 * An open remote file as a web stream of `size` bytes, read ahead with up to `inflight` SFTP reads of
 * `chunk` bytes: memory stays near `chunk × inflight` whatever the file size, and a slow client
 * slows the reads (pull-based). The handle is closed and `onEnd` called exactly once.
 */
export function remoteFileStream(
  fs: RemoteFs,
  handle: Buffer,
  size: number,
  opts: { chunk: number; inflight: number; onEnd: StreamEnd },
): ReadableStream<Uint8Array> {
  const queue: Pending[] = [];
  let next = 0;
  let sent = 0;
  let ended = false;

  const fill = () => {
    while (queue.length < opts.inflight && next < size) {
      const length = Math.min(opts.chunk, size - next);
      const data = fs.read(handle, length, next);
      data.catch(() => {}); // awaited in order below; a dropped read must not be an unhandled rejection
      queue.push({ position: next, length, data });
      next += length;
    }
  };
  const end = (error?: unknown) => {
    if (ended) return;
    ended = true;
    queue.length = 0;
    fs.close(handle).catch(() => {});
    opts.onEnd(sent, error);
  };

  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        fill();
        const head = queue.shift();
        if (!head) {
          end();
          controller.close();
          return;
        }
        const data = await head.data;
        if (data.length === 0) throw new Error(`The file shrank to ${head.position} bytes while being read.`);
        if (data.length < head.length) {
          // A short read: drop the read-ahead and continue right after what arrived.
          queue.length = 0;
          next = head.position + data.length;
        }
        sent += data.length;
        controller.enqueue(data);
      } catch (err) {
        end(err);
        controller.error(err);
      }
    },
    cancel(reason) {
      end(reason ?? new Error("The client stopped the download."));
    },
  }, { highWaterMark: 0 });
}
