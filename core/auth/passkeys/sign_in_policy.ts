import { AppError } from "../../errors.ts";
import type { User } from "../../users/users.ts";
import type { PasskeyStore } from "./passkey_store.ts";

/** The admins' choices about how people sign in (stored as settings). */
export interface SignInPolicy {
  /** `allowed`: passwords always work; `until_passkey`: only for accounts without a passkey; `disabled`: never. */
  password_sign_in: "allowed" | "until_passkey" | "disabled";
  /** Admins must sign in with a passkey. */
  admin_passkey_required: boolean;
}

/** Why this user may not sign in with a password under `policy` (null: they may). */
export function passwordRefusal(
  policy: SignInPolicy,
  user: Pick<User, "id" | "role">,
  store: PasskeyStore,
): string | null {
  if (policy.password_sign_in === "disabled") return "password sign-in is turned off; use a passkey";
  if (user.role === "admin" && policy.admin_passkey_required) return "admins must sign in with a passkey";
  if (policy.password_sign_in === "until_passkey" && store.count(user.id) > 0) {
    return "this account has a passkey; sign in with it";
  }
  return null;
}

/** Refuses a policy that would lock out accounts without a passkey (POLICY_CONFLICT naming them). */
export function checkPolicyChange(next: SignInPolicy, store: PasskeyStore): void {
  const lockedOut = next.password_sign_in === "disabled"
    ? store.usersWithout()
    : next.admin_passkey_required
    ? store.usersWithout("admin")
    : [];
  if (lockedOut.length) {
    const who = lockedOut.slice(0, 5).join(", ") + (lockedOut.length > 5 ? ` and ${lockedOut.length - 5} more` : "");
    throw new AppError(
      "POLICY_CONFLICT",
      `These accounts have no passkey and could no longer sign in: ${who}. Ask them to add one first.`,
      {},
      { accounts: lockedOut },
    );
  }
}

/** Refuses deleting a user's last passkey when the policy would then leave them no way to sign in. */
export function checkPasskeyRemoval(policy: SignInPolicy, user: Pick<User, "id" | "role">, store: PasskeyStore): void {
  if (store.count(user.id) > 1) return;
  const needsOne = policy.password_sign_in === "disabled" || (user.role === "admin" && policy.admin_passkey_required);
  if (needsOne) {
    throw new AppError(
      "POLICY_CONFLICT",
      "This is your last passkey and the sign-in policy requires one; add another passkey before deleting it.",
    );
  }
}
