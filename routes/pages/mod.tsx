import type { Context } from "hono";
import type { AppEnv } from "../../core/http/env.ts";
import type { AppError } from "../../core/errors.ts";
import type { Router } from "../../core/http/router.ts";
import type { PluginHost } from "../../core/plugins/host.ts";
import type { CoreServices } from "../../core/services.ts";
import { Island } from "../../core/ui/island.tsx";
import { signOut } from "../api/auth.ts";
import { listUsers } from "../api/users.ts";
import SetupForm from "../../islands/setup_form.tsx";
import LoginForm from "../../islands/login_form.tsx";
import UsersAdmin from "../../islands/users_admin.tsx";
import ChangePasswordForm from "../../islands/change_password_form.tsx";
import PasskeysCard from "../../islands/passkeys_card.tsx";
import SignOutEverywhere from "../../islands/sign_out_everywhere.tsx";
import SignInPolicyForm from "../../islands/sign_in_policy_form.tsx";
import SettingsForm from "../../islands/settings_form.tsx";
import SshKeyCard from "../../islands/ssh_key_card.tsx";
import CreateInstanceForm, { type InstanceDefaults } from "../../islands/create_instance_form.tsx";
import InstancesDashboard from "../../islands/instances_dashboard.tsx";
import InstanceDefaultsForm from "../../islands/instance_defaults_form.tsx";
import { instancePageRoutes } from "./instance.tsx";
import { framed } from "./frame.tsx";
import { safeNext } from "../../islands/_safe_next.ts";
import type { SettingsValues } from "../../core/settings/settings.ts";

/** The runtime backend, where it is, whether it answers, and containers no instance owns (admins). */
function EngineSummary(
  { engine }: { engine: { name: string; location?: string; up: boolean; orphans: { name: string }[] } | null },
) {
  if (!engine) {
    return <p class="muted">No runtime backend: set CLAWORC_DOCKER_SOCKET (or start Docker or Podman) and restart.</p>;
  }
  const { name, location, up, orphans } = engine;
  return (
    <div class="stack">
      <p>
        <strong>{name}</strong> at <span class="mono">{location ?? "—"}</span>{" "}
        <span class={`badge ${up ? "success" : "failure"}`} data-testid="engine-available">
          {up ? "answering" : "not answering"}
        </span>
      </p>
      {orphans.length > 0
        ? (
          <p data-testid="engine-orphans">
            Containers labelled for Claworc with no instance (left untouched):{" "}
            <span class="mono">{orphans.map((o) => o.name).join(", ")}</span>
          </p>
        )
        : (
          <p class="muted" data-testid="engine-orphans">
            Every container labelled for Claworc belongs to an instance.
          </p>
        )}
    </div>
  );
}

/** The HTML pages of core: setup, login, dashboard, users, account, settings, plus plugin pages. */
export function pageRoutes(root: Router, s: CoreServices, host: PluginHost): void {
  const page = { kind: "page" as const, tags: ["pages"] };
  const instanceDefaults = (): InstanceDefaults => {
    const { default_image, default_cpu_limit, default_memory_limit, default_vnc_resolution } = s.settings.get();
    return { default_image, default_cpu_limit, default_memory_limit, default_vnc_resolution };
  };

  root.add({ ...page, method: "GET", path: "/setup", permission: "public", summary: "First-run setup page" }, (c) => {
    if (s.users.count() > 0) return c.redirect("/login", 302);
    return framed(
      c,
      host,
      "Welcome to Claworc",
      (
        <div class="auth-card card">
          <p class="muted">Create the first administrator account. You can add more users afterwards.</p>
          <Island name="setup_form" component={SetupForm} props={{}} />
        </div>
      ),
    );
  });

  root.add({ ...page, method: "GET", path: "/login", permission: "public", summary: "Sign-in page" }, (c) => {
    if (s.users.count() === 0) return c.redirect("/setup", 302);
    const next = safeNext(c.req.query("next"));
    if (c.get("user")) return c.redirect(next, 302);
    return framed(
      c,
      host,
      "Sign in",
      (
        <div class="auth-card card">
          <Island name="login_form" component={LoginForm} props={{ next }} />
        </div>
      ),
    );
  });

  root.add({
    ...page,
    method: "POST",
    path: "/logout",
    permission: "public",
    summary: "Sign out (form post) and go to the sign-in page",
  }, (c) => {
    signOut(c, s);
    return c.redirect("/login", 303);
  });

  root.add(
    { ...page, method: "GET", path: "/", permission: "authenticated", summary: "Dashboard: your instances" },
    (c, { user }) => {
      const instances = s.instances.listFor(user).map((i) => ({
        id: i.id,
        name: i.name,
        display_name: i.display_name,
        status: i.status,
        status_reason: i.status_reason,
        cpu_limit: i.cpu_limit,
        memory_limit: i.memory_limit,
        assigned_users: i.assigned_users,
        ssh_state: s.ssh.state(i.id),
      }));
      const isAdmin = user.role === "admin";
      return framed(
        c,
        host,
        "Instances",
        (
          <section class="stack">
            {isAdmin && s.runtime.backend && (
              <div class="card">
                <Island
                  name="create_instance_form"
                  component={CreateInstanceForm}
                  props={{ defaults: instanceDefaults() }}
                />
              </div>
            )}
            <Island
              name="instances_dashboard"
              component={InstancesDashboard}
              props={{
                instances,
                isAdmin,
                operations: instances.flatMap((i) => {
                  const op = s.operations.latest(i.id);
                  return op?.state === "running" ? [op] : [];
                }),
              }}
            />
          </section>
        ),
      );
    },
  );

  root.add(
    { ...page, method: "GET", path: "/users", permission: "admin", summary: "User management page" },
    (c, { user }) => {
      const users = listUsers(s);
      const assignments = Object.fromEntries(users.map((u) => [String(u.id), s.users.assignedInstanceIds(u.id)]));
      const instances = s.instances.listFor(user).map(({ id, name, display_name }) => ({ id, name, display_name }));
      return framed(
        c,
        host,
        "Users",
        <Island name="users_admin" component={UsersAdmin} props={{ me: user.id, users, instances, assignments }} />,
      );
    },
  );

  root.add({
    ...page,
    method: "GET",
    path: "/account",
    permission: "authenticated",
    summary: "Your account: passkeys, password, sessions",
  }, (c, { user }) =>
    framed(
      c,
      host,
      "Account",
      (
        <section class="stack">
          <div class="card">
            <p>
              Signed in as <strong>{user.username}</strong> <span class={`badge ${user.role}`}>{user.role}</span>
            </p>
          </div>
          <div class="card">
            <h2>Passkeys</h2>
            <Island
              name="passkeys_card"
              component={PasskeysCard}
              props={{ passkeys: s.passkeys.store.list(user.id) }}
            />
          </div>
          <div class="card">
            <h2>Change password</h2>
            <Island name="change_password_form" component={ChangePasswordForm} props={{}} />
          </div>
          <div class="card">
            <h2>Sessions</h2>
            <Island name="sign_out_everywhere" component={SignOutEverywhere} props={{}} />
          </div>
        </section>
      ),
    ));

  root.add(
    { ...page, method: "GET", path: "/settings", permission: "admin", summary: "Settings page" },
    async (c) => {
      const backend = s.runtime.backend;
      const engine = backend
        ? {
          name: backend.name,
          location: backend.location,
          up: await backend.available(),
          orphans: s.lifecycle.orphans(),
        }
        : null;
      return framed(
        c,
        host,
        "Settings",
        (
          <section class="stack">
            <div class="card">
              <Island name="settings_form" component={SettingsForm} props={{ settings: s.settings.get() }} />
            </div>
            <div class="card">
              <h2>Sign-in</h2>
              <Island
                name="sign_in_policy_form"
                component={SignInPolicyForm}
                props={{ policy: pickPolicy(s.settings.get()) }}
              />
            </div>
            <div class="card">
              <h2>New instances</h2>
              <Island
                name="instance_defaults_form"
                component={InstanceDefaultsForm}
                props={{ defaults: instanceDefaults() }}
              />
            </div>
            <div class="card" data-testid="engine-card">
              <h2>Container engine</h2>
              <EngineSummary engine={engine} />
            </div>
            <div class="card">
              <h2>SSH key</h2>
              <Island
                name="ssh_key_card"
                component={SshKeyCard}
                props={{ fingerprint: s.sshKeys.fingerprint(), publicKey: s.sshKeys.publicKey }}
              />
            </div>
          </section>
        ),
      );
    },
  );

  instancePageRoutes(root, s, host);

  for (const p of host.pages) {
    root.add(
      { ...page, method: "GET", path: p.path, permission: p.permission, summary: p.title },
      async (c, { user }) => framed(c, host, p.title, await p.render(c, user)),
    );
  }
}

const ERROR_TITLES: Record<number, string> = {
  400: "Bad request",
  403: "Not allowed",
  404: "Page not found",
  429: "Slow down",
};

/** The HTML error page for page requests (a 403 for a user on an admin page, a 404...). */
export function errorPage(host: PluginHost) {
  return (c: Context<AppEnv>, err: AppError) =>
    framed(
      c,
      host,
      ERROR_TITLES[err.status] ?? "Something went wrong",
      (
        <div class="empty" data-testid="error-page" data-code={err.code}>
          <p>{err.message}</p>
          <p>
            <a href="/">Back to the dashboard</a>
          </p>
        </div>
      ),
      err.status,
    );
}

/** The sign-in policy part of the settings (the island gets nothing else). */
function pickPolicy(v: SettingsValues) {
  return { password_sign_in: v.password_sign_in, admin_passkey_required: v.admin_passkey_required };
}
