import type { ComponentChildren } from "preact";
import type { SessionUser } from "../auth/sessions.ts";

/** One entry of the main navigation. */
export interface NavItem {
  href: string;
  label: string;
  adminOnly: boolean;
  order: number;
}

/** The page frame: header with navigation and account links, then the page's content. */
export function Layout(
  { title, user, nav, current, children }: {
    title: string;
    user?: SessionUser;
    nav: readonly NavItem[];
    current: string;
    children: ComponentChildren;
  },
) {
  const items = nav.filter((n) => !n.adminOnly || user?.role === "admin").sort((a, b) => a.order - b.order);
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <title>{`${title} · Claworc`}</title>
        <link rel="stylesheet" href="/static/app.css" />
        <link rel="icon" href="/static/favicon.svg" type="image/svg+xml" />
      </head>
      <body>
        <header class="topbar">
          <a class="brand" href="/">
            <img src="/static/favicon.svg" alt="" width="24" height="24" />
            <span>Claworc</span>
          </a>
          {user && (
            <nav class="mainnav" aria-label="Main">
              {items.map((n) => (
                <a key={n.href} href={n.href} aria-current={current === n.href ? "page" : undefined}>{n.label}</a>
              ))}
            </nav>
          )}
          {user && (
            <div class="account">
              <a href="/account" class="who" aria-current={current === "/account" ? "page" : undefined}>
                {user.username} <span class="badge">{user.role}</span>
              </a>
              <form method="post" action="/logout" class="inline">
                <button type="submit" class="ghost" data-testid="logout">Sign out</button>
              </form>
            </div>
          )}
        </header>
        <main class="page">
          <h1>{title}</h1>
          {children}
        </main>
      </body>
    </html>
  );
}
