import { z } from "zod";
import { SESSION_ID } from "./names.ts";

/** Query of the terminal WebSocket: which session (a new one when absent) and the browser's size. */
export const terminalQuery = z.object({
  session_id: z.string().regex(SESSION_ID, "1-32 letters, digits, - or _").optional(),
  cols: z.coerce.number().int().optional(),
  rows: z.coerce.number().int().optional(),
});

export type TerminalQuery = z.infer<typeof terminalQuery>;
