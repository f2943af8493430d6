import { z } from "zod";
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from "../../core/auth/passwords.ts";

/** Shared request schemas for the core API. */
export const username = z.string().trim().min(3, "must be at least 3 characters").max(
  64,
  "must be at most 64 characters",
)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._@-]*$/,
    "may contain letters, digits, '.', '_', '@' and '-' and must start with a letter or digit",
  );

export const newPassword = z.string()
  .min(PASSWORD_MIN_LENGTH, `must be at least ${PASSWORD_MIN_LENGTH} characters`)
  .max(PASSWORD_MAX_LENGTH, `must be at most ${PASSWORD_MAX_LENGTH} characters`);

/** Sign-in accepts any string up to the maximum, so old passwords keep working if the minimum grows. */
export const anyPassword = z.string().min(1, "is required").max(
  PASSWORD_MAX_LENGTH,
  `must be at most ${PASSWORD_MAX_LENGTH} characters`,
);

export const role = z.enum(["admin", "user"], "must be `admin` or `user`");

export const credentials = z.object({
  username: z.string().trim().min(1, "is required").max(64),
  password: anyPassword,
});
export const setupBody = z.object({ username, password: newPassword });
export const changePasswordBody = z.object({ current_password: anyPassword, new_password: newPassword });
export const createUserBody = z.object({ username, password: newPassword, role: role.default("user") });
export const roleBody = z.object({ role });
export const resetPasswordBody = z.object({ password: newPassword });
export const assignmentsBody = z.object({ instance_ids: z.array(z.number().int().positive()).max(10_000) });
