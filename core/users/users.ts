import type { Database } from "../db/database.ts";
import { AppError } from "../errors.ts";
import { hashPassword } from "../auth/passwords.ts";

export type Role = "admin" | "user";

/** A user as the API shows it (never the password hash). */
export interface User {
  id: number;
  username: string;
  role: Role;
  created_at: string;
}

const COLUMNS = "id, username, role, created_at";

/** The users table: creation, roles, passwords and instance assignments. */
export class Users {
  constructor(private readonly db: Database) {}

  count(): number {
    return Number(this.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM users")?.n ?? 0);
  }

  list(): User[] {
    return this.db.all<User>(`SELECT ${COLUMNS} FROM users ORDER BY username`);
  }

  find(id: number): User | undefined {
    return this.db.get<User>(`SELECT ${COLUMNS} FROM users WHERE id = ?`, id);
  }

  /** Throws USER_NOT_FOUND when there is no such user. */
  get(id: number): User {
    const user = this.find(id);
    if (!user) throw new AppError("USER_NOT_FOUND", `User ${id} does not exist.`);
    return user;
  }

  /** The user and password hash for a sign-in attempt (username match ignores case). */
  credentials(username: string): (User & { password_hash: string }) | undefined {
    return this.db.get(`SELECT ${COLUMNS}, password_hash FROM users WHERE username = ?`, username);
  }

  passwordHash(id: number): string | undefined {
    return this.db.get<{ password_hash: string }>("SELECT password_hash FROM users WHERE id = ?", id)?.password_hash;
  }

  /** Creates a user; USERNAME_TAKEN when the name exists (ignoring case). */
  async create(username: string, password: string, role: Role): Promise<User> {
    const hash = await hashPassword(password);
    return this.db.transaction(() => {
      if (this.db.get("SELECT 1 FROM users WHERE username = ?", username)) {
        throw new AppError("USERNAME_TAKEN", `The username "${username}" is already taken.`);
      }
      return this.#insert(username, hash, role);
    });
  }

  /** Creates the first admin only while no user exists, atomically; SETUP_DONE otherwise. */
  async createFirstAdmin(username: string, password: string): Promise<User> {
    const hash = await hashPassword(password);
    return this.db.transaction(() => {
      if (this.count() > 0) throw new AppError("SETUP_DONE", "Setup is already complete; sign in instead.");
      return this.#insert(username, hash, "admin");
    });
  }

  #insert(username: string, hash: string, role: Role): User {
    const now = new Date().toISOString();
    const { lastId } = this.db.run(
      "INSERT INTO users (username, password_hash, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
      username,
      hash,
      role,
      now,
      now,
    );
    return this.get(lastId);
  }

  async setPassword(id: number, password: string): Promise<void> {
    this.get(id);
    const hash = await hashPassword(password);
    this.db.run("UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?", hash, new Date().toISOString(), id);
  }

  /** Changes a role; refuses to remove the last admin (LAST_ADMIN). */
  setRole(id: number, role: Role): User {
    return this.db.transaction(() => {
      const user = this.get(id);
      if (user.role === "admin" && role !== "admin" && this.adminCount() <= 1) {
        throw new AppError("LAST_ADMIN", "Cannot demote the last admin.");
      }
      this.db.run("UPDATE users SET role = ?, updated_at = ? WHERE id = ?", role, new Date().toISOString(), id);
      return this.get(id);
    });
  }

  /** Deletes a user (sessions and assignments go with it); refuses to delete the last admin. */
  delete(id: number): User {
    return this.db.transaction(() => {
      const user = this.get(id);
      if (user.role === "admin" && this.adminCount() <= 1) {
        throw new AppError("LAST_ADMIN", "Cannot delete the last admin.");
      }
      this.db.run("DELETE FROM users WHERE id = ?", id);
      return user;
    });
  }

  adminCount(): number {
    return Number(this.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM users WHERE role = 'admin'")?.n ?? 0);
  }

  /** Ids of the instances assigned to a user. */
  assignedInstanceIds(userId: number): number[] {
    return this.db.all<{ instance_id: number }>(
      "SELECT instance_id FROM user_instances WHERE user_id = ? ORDER BY instance_id",
      userId,
    ).map((r) => r.instance_id);
  }

  /** Replaces a user's assignments in one transaction; unknown instance ids are refused. */
  setAssignedInstances(userId: number, instanceIds: number[]): number[] {
    return this.db.transaction(() => {
      this.get(userId);
      const unique = [...new Set(instanceIds)];
      for (const id of unique) {
        if (!this.db.get("SELECT 1 FROM instances WHERE id = ?", id)) {
          throw new AppError("INSTANCE_NOT_FOUND", `Instance ${id} does not exist.`);
        }
      }
      this.db.run("DELETE FROM user_instances WHERE user_id = ?", userId);
      for (const id of unique) {
        this.db.run("INSERT INTO user_instances (user_id, instance_id) VALUES (?, ?)", userId, id);
      }
      return this.assignedInstanceIds(userId);
    });
  }

  /** Whether `user` may see and act on an instance: admins always, users when assigned. */
  canAccessInstance(user: Pick<User, "id" | "role">, instanceId: number): boolean {
    if (user.role === "admin") return true;
    return this.db.get("SELECT 1 FROM user_instances WHERE user_id = ? AND instance_id = ?", user.id, instanceId) !==
      undefined;
  }
}
