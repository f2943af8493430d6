import type { z } from "zod";
import { AppError } from "../errors.ts";

/** Validates `value` against `schema`; a 400 whose message names the first bad field and why. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, where: "body" | "query"): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue.path.length ? issue.path.join(".") : where;
  throw new AppError("VALIDATION_FAILED", `Invalid ${field}: ${issue.message}.`);
}

/** Reads a JSON body; 400 MALFORMED_JSON when it is not JSON. (Size is capped by the body-limit middleware.) */
export async function readJson(req: Request): Promise<unknown> {
  const text = await req.text();
  if (text.trim() === "") throw new AppError("MALFORMED_JSON", "The request body is empty; expected JSON.");
  try {
    return JSON.parse(text);
  } catch {
    throw new AppError("MALFORMED_JSON", "The request body is not valid JSON.");
  }
}
