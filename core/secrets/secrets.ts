import { AppError } from "../errors.ts";
import { Fernet, FernetError } from "./fernet.ts";

/** Encrypts values for storage; the only code that holds the master key. */
export class Secrets {
  constructor(private readonly fernet: Fernet) {}

  /** Ciphertext (a Fernet token) for `plaintext`. */
  encrypt(plaintext: string): Promise<string> {
    return this.fernet.encrypt(plaintext);
  }

  /** Plaintext of a stored token; a token from another master key gives a plain SECRET_UNREADABLE error. */
  async decrypt(token: string): Promise<string> {
    try {
      return await this.fernet.decryptText(token);
    } catch (e) {
      if (e instanceof FernetError) {
        throw new AppError(
          "SECRET_UNREADABLE",
          "A stored secret cannot be decrypted with the current master key; restore the original key or re-enter the secret.",
        );
      }
      throw e;
    }
  }
}

/** What the API shows of a secret: never more than its last four characters. */
export function maskSecret(value: string): string {
  return value.length > 8 ? `****${value.slice(-4)}` : "****";
}
