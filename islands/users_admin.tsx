import { useEffect, useRef, useState } from "preact/hooks";
import { api, errorText, useHydrated } from "./_api.ts";

export type Role = "admin" | "user";

export interface UserInfo {
  id: number;
  username: string;
  role: Role;
  created_at: string;
  /** How many passkeys the user holds. */
  passkeys: number;
}

export interface InstanceInfo {
  id: number;
  name: string;
  display_name: string;
}

export interface UsersAdminProps {
  /** The signed-in admin's id: their own row cannot be deleted or demoted. */
  me: number;
  users: UserInfo[];
  instances: InstanceInfo[];
  /** Instance ids assigned to each user, keyed by the user's id as a string. */
  assignments: Record<string, number[]>;
}

/** Where a message belongs: under the create form, above the table, or in one user's row. */
type Scope = "create" | "list" | number;
type Flash = { scope: Scope; ok: boolean; text: string } | null;
/** The inline editor open under a user's row. */
type Panel = "none" | "reset" | "instances";

const roleLabel = (role: Role) => (role === "admin" ? "Administrator" : "User");

/** User management: create users, change roles, reset passwords, assign instances, delete. */
export default function UsersAdmin(props: UsersAdminProps) {
  const ready = useHydrated();
  const [users, setUsers] = useState<UserInfo[]>(props.users);
  const [assignments, setAssignments] = useState<Record<string, number[]>>(props.assignments);
  const [flash, setFlash] = useState<Flash>(null);
  /** At most one inline editor is open at a time. */
  const [open, setOpen] = useState<{ id: number; panel: Exclude<Panel, "none"> } | null>(null);

  async function reloadUsers(): Promise<void> {
    setUsers(await api<UserInfo[]>("GET", "/api/v1/users"));
  }

  async function reloadAssignments(id: number): Promise<number[]> {
    const { instance_ids } = await api<{ instance_ids: number[] }>("GET", `/api/v1/users/${id}/instances`);
    setAssignments((a) => ({ ...a, [String(id)]: instance_ids }));
    return instance_ids;
  }

  /**
   * Runs one change, then re-reads what it affected, and reports the outcome where it happened.
   * Resolves true when the change itself succeeded.
   */
  async function change(scope: Scope, act: () => Promise<string>, reload: () => Promise<unknown>): Promise<boolean> {
    setFlash(null);
    let text: string;
    try {
      text = await act();
    } catch (e) {
      setFlash({ scope, ok: false, text: errorText(e) });
      await reloadUsers().catch(() => {});
      return false;
    }
    try {
      await reload();
      setFlash({ scope, ok: true, text });
    } catch (e) {
      setFlash({ scope, ok: false, text: `${text} But the list could not be reloaded: ${errorText(e)}` });
    }
    return true;
  }

  function createUser(username: string, password: string, role: Role): Promise<boolean> {
    return change("create", async () => {
      const u = await api<{ id: number; username: string; role: Role }>("POST", "/api/v1/users", {
        username,
        password,
        role,
      });
      setAssignments((a) => ({ ...a, [String(u.id)]: [] }));
      return `Created ${roleLabel(u.role).toLowerCase()} "${u.username}".`;
    }, reloadUsers);
  }

  function setRole(u: UserInfo, role: Role): Promise<boolean> {
    return change(u.id, async () => {
      await api("PUT", `/api/v1/users/${u.id}/role`, { role });
      return `"${u.username}" is now ${
        role === "admin" ? "an administrator" : "a regular user"
      }; their sessions were ended.`;
    }, reloadUsers);
  }

  function resetPassword(u: UserInfo, password: string): Promise<boolean> {
    return change(u.id, async () => {
      await api("POST", `/api/v1/users/${u.id}/reset-password`, { password });
      return u.id === props.me
        ? "Your password was reset; your other sessions were signed out."
        : `Password of "${u.username}" was reset; their sessions were ended.`;
    }, reloadUsers);
  }

  function saveInstances(u: UserInfo, ids: number[]): Promise<boolean> {
    return change(u.id, async () => {
      await api("PUT", `/api/v1/users/${u.id}/instances`, { instance_ids: ids });
      return `Instance access of "${u.username}" saved.`;
    }, async () => {
      const saved = await reloadAssignments(u.id);
      await reloadUsers();
      return saved;
    });
  }

  function deleteUser(u: UserInfo): Promise<boolean> {
    return change("list", async () => {
      await api("DELETE", `/api/v1/users/${u.id}`);
      setUsers((list) => list.filter((x) => x.id !== u.id));
      setAssignments((a) => {
        const { [String(u.id)]: _gone, ...rest } = a;
        return rest;
      });
      return `Deleted user "${u.username}".`;
    }, reloadUsers);
  }

  return (
    <div class="stack">
      <section class="card" aria-labelledby="create-user-heading">
        <h2 id="create-user-heading">Create user</h2>
        <CreateUserForm ready={ready} onCreate={createUser} />
        {flash?.scope === "create" && <Message flash={flash} />}
      </section>

      <section class="stack" aria-labelledby="users-heading">
        <h2 id="users-heading">
          Users <span class="muted">({users.length})</span>
        </h2>
        {flash?.scope === "list" && <Message flash={flash} />}
        {props.instances.length === 0 && open?.panel !== "instances" && (
          <p class="empty" data-testid="no-instances">
            No instances yet. Once there are some, assign them to users with the Instances button of each row.
          </p>
        )}
        {users.length === 0 ? <div class="empty">No users.</div> : (
          <div class="table-wrap">
            <table class="data grouped" data-testid="users-table">
              <thead>
                <tr>
                  <th scope="col">Username</th>
                  <th scope="col">Role</th>
                  <th scope="col">Created</th>
                  <th scope="col">Instances</th>
                  <th scope="col">Passkeys</th>
                  <th scope="col">
                    <span class="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              {users.map((u) => (
                <UserRow
                  key={u.id}
                  user={u}
                  isMe={u.id === props.me}
                  ready={ready}
                  instances={props.instances}
                  assigned={assignments[String(u.id)] ?? []}
                  flash={flash?.scope === u.id ? flash : null}
                  panel={open?.id === u.id ? open.panel : "none"}
                  setPanel={(p) => setOpen(p === "none" ? null : { id: u.id, panel: p })}
                  onRole={(role) => setRole(u, role)}
                  onReset={(pw) => resetPassword(u, pw)}
                  onSaveInstances={(ids) => saveInstances(u, ids)}
                  onDelete={() => deleteUser(u)}
                />
              ))}
            </table>
          </div>
        )}
      </section>
    </div>
  );
}

function Message({ flash }: { flash: NonNullable<Flash> }) {
  return <p role={flash.ok ? "status" : "alert"}>{flash.text}</p>;
}

function CreateUserForm(
  { ready, onCreate }: {
    ready: boolean;
    onCreate: (username: string, password: string, role: Role) => Promise<boolean>;
  },
) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState<Role>("user");
  const [busy, setBusy] = useState(false);

  async function submit(e: Event) {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    const ok = await onCreate(username.trim(), password, role);
    setBusy(false);
    if (ok) {
      setUsername("");
      setPassword("");
      setRole("user");
    }
  }

  return (
    <form class="grid create-user" method="post" noValidate onSubmit={submit}>
      <label>
        Username
        <input
          name="username"
          autocomplete="off"
          spellcheck={false}
          required
          maxLength={64}
          value={username}
          onInput={(e) => setUsername(e.currentTarget.value)}
          data-testid="new-username"
        />
      </label>
      <label>
        Password
        <input
          type="password"
          name="password"
          autocomplete="new-password"
          required
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
          data-testid="new-password"
        />
      </label>
      <label>
        Role
        <select
          name="role"
          value={role}
          onChange={(e) => setRole(e.currentTarget.value as Role)}
          data-testid="new-role"
        >
          <option value="user">User</option>
          <option value="admin">Administrator</option>
        </select>
      </label>
      <div class="actions">
        <button type="submit" class="primary" disabled={!ready || busy} data-testid="create-user">
          {busy ? "Creating…" : "Create user"}
        </button>
      </div>
    </form>
  );
}

function UserRow(
  { user, isMe, ready, instances, assigned, flash, panel, setPanel, onRole, onReset, onSaveInstances, onDelete }: {
    user: UserInfo;
    isMe: boolean;
    ready: boolean;
    instances: InstanceInfo[];
    assigned: number[];
    flash: Flash;
    panel: Panel;
    setPanel: (p: Panel) => void;
    onRole: (role: Role) => Promise<boolean>;
    onReset: (password: string) => Promise<boolean>;
    onSaveInstances: (ids: number[]) => Promise<boolean>;
    onDelete: () => Promise<boolean>;
  },
) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [pendingRole, setPendingRole] = useState<Role | null>(null);
  const [password, setPassword] = useState("");
  const [selected, setSelected] = useState<number[]>(assigned);
  const passwordRef = useRef<HTMLInputElement>(null);
  const firstCheckRef = useRef<HTMLInputElement>(null);
  const confirmRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (panel === "reset") passwordRef.current?.focus();
    if (panel === "instances") firstCheckRef.current?.focus();
  }, [panel]);
  useEffect(() => {
    if (confirming) confirmRef.current?.focus();
  }, [confirming]);

  const slug = `user-${user.id}`;
  const disabled = !ready || busy;

  async function guarded(work: () => Promise<void>) {
    if (busy) return;
    setBusy(true);
    try {
      await work();
    } finally {
      setBusy(false);
    }
  }

  function togglePanel(p: Panel) {
    setConfirming(false);
    setPassword("");
    if (p === "instances") setSelected(assigned);
    setPanel(panel === p ? "none" : p);
  }

  function changeRole(role: Role) {
    setPendingRole(role);
    void guarded(async () => {
      await onRole(role);
      setPendingRole(null);
    });
  }

  function submitReset(e: Event) {
    e.preventDefault();
    void guarded(async () => {
      if (await onReset(password)) {
        setPassword("");
        setPanel("none");
      }
    });
  }

  function submitInstances(e: Event) {
    e.preventDefault();
    void guarded(async () => {
      const order = new Map(instances.map((inst, i) => [inst.id, i]));
      const ids = [...selected].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
      if (await onSaveInstances(ids)) setPanel("none");
    });
  }

  function toggleInstance(id: number, on: boolean) {
    setSelected((s) => (on ? (s.includes(id) ? s : [...s, id]) : s.filter((x) => x !== id)));
  }

  const showDetail = panel !== "none" || flash !== null;

  return (
    <tbody class="user" data-testid={`user-row-${user.username}`}>
      <tr>
        <th scope="row">
          <span class="username">{user.username}</span>
          {isMe && <span class="muted you">(you)</span>}
        </th>
        <td>
          <select
            aria-label={`Role of ${user.username}`}
            value={pendingRole ?? user.role}
            disabled={disabled || isMe}
            title={isMe ? "You cannot change your own role." : undefined}
            onChange={(e) => changeRole(e.currentTarget.value as Role)}
            data-testid="role-select"
          >
            <option value="user">User</option>
            <option value="admin">Administrator</option>
          </select>
        </td>
        <td class="nowrap">
          <time dateTime={user.created_at} title={user.created_at}>{user.created_at.slice(0, 10)}</time>
        </td>
        <td data-testid="assigned-count">{assigned.length}</td>
        <td data-testid="passkey-count">{user.passkeys}</td>
        <td class="actions-cell">
          {confirming
            ? (
              <div class="row confirm" role="group" aria-label={`Confirm deleting ${user.username}`}>
                <span>Really delete?</span>
                <button
                  type="button"
                  class="danger"
                  ref={confirmRef}
                  disabled={disabled}
                  onClick={() =>
                    guarded(async () => {
                      if (!(await onDelete())) setConfirming(false);
                    })}
                  data-testid="confirm-delete"
                >
                  Yes, delete
                </button>
                <button
                  type="button"
                  class="ghost"
                  disabled={busy}
                  onClick={() => setConfirming(false)}
                  data-testid="cancel-delete"
                >
                  No
                </button>
              </div>
            )
            : (
              <div class="row">
                <button
                  type="button"
                  class="ghost"
                  aria-expanded={panel === "reset"}
                  aria-controls={`${slug}-detail`}
                  disabled={disabled}
                  onClick={() => togglePanel("reset")}
                  data-testid="reset-password-toggle"
                >
                  Reset password
                </button>
                <button
                  type="button"
                  class="ghost"
                  aria-expanded={panel === "instances"}
                  aria-controls={`${slug}-detail`}
                  disabled={disabled}
                  onClick={() => togglePanel("instances")}
                  data-testid="instances-toggle"
                >
                  Instances
                </button>
                <button
                  type="button"
                  class="danger"
                  disabled={disabled || isMe}
                  title={isMe ? "You cannot delete your own account." : undefined}
                  onClick={() => {
                    setPanel("none");
                    setConfirming(true);
                  }}
                  data-testid="delete-user"
                >
                  Delete
                </button>
              </div>
            )}
        </td>
      </tr>
      {showDetail && (
        <tr class="detail">
          <td colSpan={6} id={`${slug}-detail`}>
            <div class="stack">
              {flash && <Message flash={flash} />}
              {panel === "reset" && (
                <form class="row wrap" method="post" noValidate onSubmit={submitReset}>
                  <label class="grow">
                    New password for {user.username}
                    <input
                      ref={passwordRef}
                      type="password"
                      name="password"
                      autocomplete="new-password"
                      required
                      value={password}
                      onInput={(e) => setPassword(e.currentTarget.value)}
                      data-testid="reset-password-input"
                    />
                  </label>
                  <div class="row">
                    <button type="submit" class="primary" disabled={disabled} data-testid="reset-password-submit">
                      {busy ? "Resetting…" : "Reset password"}
                    </button>
                    <button type="button" class="ghost" disabled={busy} onClick={() => setPanel("none")}>
                      Cancel
                    </button>
                  </div>
                </form>
              )}
              {panel === "instances" && (
                <form class="stack" method="post" noValidate onSubmit={submitInstances}>
                  <fieldset>
                    <legend>Instances {user.username} can use</legend>
                    {user.role === "admin" && (
                      <p class="hint">Administrators see every instance; assignments matter if they become a user.</p>
                    )}
                    {instances.length === 0
                      ? <p class="empty" data-testid="no-instances">No instances yet.</p>
                      : (
                        <div class="checklist">
                          {instances.map((inst, i) => (
                            <label class="check" key={inst.id}>
                              <input
                                type="checkbox"
                                ref={i === 0 ? firstCheckRef : undefined}
                                value={String(inst.id)}
                                checked={selected.includes(inst.id)}
                                onChange={(e) => toggleInstance(inst.id, e.currentTarget.checked)}
                                data-testid={`instance-${inst.name}`}
                              />
                              <span>
                                {inst.display_name || inst.name}
                                {inst.display_name && inst.display_name !== inst.name && (
                                  <span class="muted">{inst.name}</span>
                                )}
                              </span>
                            </label>
                          ))}
                        </div>
                      )}
                  </fieldset>
                  <div class="row">
                    <button type="submit" class="primary" disabled={disabled} data-testid="instances-save">
                      {busy ? "Saving…" : "Save instances"}
                    </button>
                    <button type="button" class="ghost" disabled={busy} onClick={() => setPanel("none")}>
                      Cancel
                    </button>
                  </div>
                </form>
              )}
            </div>
          </td>
        </tr>
      )}
    </tbody>
  );
}
