import { z } from "zod";
import { LOG_TYPE_IDS } from "./types.ts";

/** Most lines one request may ask for up front. */
export const MAX_TAIL = 5000;

/** A boolean query flag: `true`/`1` or `false`/`0` (anything else is refused, not read as true). */
const flag = z.enum(["true", "false", "1", "0"], { error: "must be true or false" })
  .transform((v) => v === "true" || v === "1");

/** Query of `GET /api/v1/instances/{id}/logs`. */
export const logsQuery = z.object({
  type: z.enum(LOG_TYPE_IDS, { error: `must be one of ${LOG_TYPE_IDS.join(", ")}` }).default("openclaw"),
  tail: z.coerce.number({ error: `must be a whole number from 1 to ${MAX_TAIL}` }).int().min(1).max(MAX_TAIL)
    .default(200),
  follow: flag.default(false),
});

export type LogsQuery = z.infer<typeof logsQuery>;
