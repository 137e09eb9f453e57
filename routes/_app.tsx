/** The layout every page renders in: sidebar navigation, top bar, and the island bundle. */
import type { AppProps } from "../console/pages.ts";
import { isAdmin, isGlobalAdmin } from "../console/session.ts";
import UserMenu from "../islands/UserMenu.tsx";
import AlertBell from "../islands/AlertBell.tsx";
import MaintenanceBanner from "../islands/MaintenanceBanner.tsx";
import { island } from "../console/island.tsx";

const NAV = [
  { href: "/", label: "Dashboard", show: () => true },
  { href: "/buckets", label: "Buckets", show: () => true },
  { href: "/keys", label: "Access keys", show: () => true },
  { href: "/kms", label: "Encryption keys", show: () => true },
  { href: "/notifications", label: "Webhook targets", show: () => true },
  { href: "/users", label: "Users", show: isAdmin },
  { href: "/access", label: "Access control", show: isAdmin },
  { href: "/tenants", label: "Tenants", show: isGlobalAdmin },
  { href: "/audit", label: "Audit log", show: isAdmin },
  { href: "/alerts", label: "Alerts", show: isAdmin },
  { href: "/charts", label: "Metrics", show: isGlobalAdmin },
  { href: "/encryption", label: "Encryption", show: isGlobalAdmin },
  { href: "/settings", label: "Settings", show: isGlobalAdmin },
  { href: "/profile", label: "Profile", show: () => true },
];

function current(path: string, href: string): boolean {
  return href === "/" ? path === "/" : path === href || path.startsWith(href + "/");
}

export default function App({ title, user, path, css, js, children }: AppProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{title === "MaxIOFS" ? title : `${title} · MaxIOFS`}</title>
        <link rel="icon" href="/static/favicon.svg" type="image/svg+xml" />
        <link rel="stylesheet" href={css} />
        <script type="module" src={js} defer></script>
      </head>
      <body>
        {user
          ? (
            <div class="shell">
              <a class="skip" href="#main">Skip to content</a>
              <nav class="sidebar" aria-label="Main">
                <a class="brand" href="/">
                  <img src="/static/favicon.svg" alt="" /> MaxIOFS
                </a>
                <ul class="nav">
                  {NAV.filter((n) => n.show(user)).map((n) => (
                    <li key={n.href}>
                      <a href={n.href} aria-current={current(path, n.href) ? "page" : undefined}>
                        {n.label}
                      </a>
                    </li>
                  ))}
                </ul>
              </nav>
              <main class="main" id="main">
                {island(MaintenanceBanner, {})}
                <div class="topbar">
                  <h1>{title}</h1>
                  <div class="row">
                    {isAdmin(user) && island(AlertBell, {})}
                    {island(UserMenu, { username: user.username, role: user.role })}
                  </div>
                </div>
                {children}
              </main>
            </div>
          )
          : <main id="main">{children}</main>}
      </body>
    </html>
  );
}
