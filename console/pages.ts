/**
 * Server rendering of routes/: match the URL, check the session, render the page inside the
 * `_app` layout with preact-render-to-string, and answer 404/500 with `_404` / `_500`.
 */
import { type ComponentChildren, type ComponentType, h, type VNode } from "preact";
import { renderToString } from "preact-render-to-string";
import { compileRoutes, matchRoute } from "./router.ts";
import { IslandContext, type IslandRegistry } from "./island.tsx";
import { isAdmin, isGlobalAdmin, type SessionResolver, type SessionUser } from "./session.ts";
import type { Logger } from "../server/log.ts";

/** What every page component receives; serializable so pages can pass it on to islands. */
export interface PageProps {
  path: string;
  search: string;
  params: Record<string, string>;
  user: SessionUser | null;
}

export interface RouteConfig {
  /** Served without a session (login). Everything else redirects to /login. */
  public?: boolean;
  /** Only tenant or global admins. */
  admin?: boolean;
  /** Only global admins. */
  globalAdmin?: boolean;
  /** Signed-in users are sent on to `?next=` (the login page). */
  guestOnly?: boolean;
  title?: string;
}

export interface RouteModule {
  default: ComponentType<PageProps>;
  config?: RouteConfig;
}

export interface AppProps {
  title: string;
  user: SessionUser | null;
  path: string;
  css: string;
  js: string;
  children: ComponentChildren;
}

export interface Manifest {
  routes: Record<string, unknown>;
  islands: Record<string, { default: ComponentType<never> }>;
}

export interface PageHandlerOptions {
  manifest: Manifest;
  session: SessionResolver;
  assetUrls: { css: string; js: string };
  log: Logger;
}

/** A same-origin path only, so `?next=` cannot send anyone to another site. */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) {
    return "/";
  }
  return next;
}

function html(body: string, status = 200): Response {
  return new Response("<!DOCTYPE html>" + body, {
    status,
    headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" },
  });
}

export function createPageHandler(opts: PageHandlerOptions) {
  const mods = opts.manifest.routes as Record<string, RouteModule>;
  const routes = compileRoutes(mods);
  const App = (mods["_app.tsx"]?.default ??
    (({ children }: AppProps) => children)) as unknown as ComponentType<AppProps>;
  const NotFound = mods["_404.tsx"];
  const ServerError = mods["_500.tsx"];
  const registry: IslandRegistry = new Map();
  for (const [name, mod] of Object.entries(opts.manifest.islands)) {
    registry.set(mod.default, name);
  }

  /** `_layout.tsx` files from the routes root down to the route's folder, outermost first. */
  const layoutsOf = (
    file: string,
  ): ComponentType<PageProps & { children: ComponentChildren }>[] => {
    const dirs = file.split("/").slice(0, -1);
    const out = [];
    for (let i = 0; i <= dirs.length; i++) {
      const path = [...dirs.slice(0, i), "_layout.tsx"].join("/");
      const layout = mods[path]?.default;
      if (layout) out.push(layout as ComponentType<PageProps & { children: ComponentChildren }>);
    }
    return out;
  };

  const render = (mod: RouteModule, props: PageProps, status: number, file = "") => {
    let body: VNode = h(mod.default, props) as VNode;
    for (const Layout of layoutsOf(file).reverse()) {
      body = h(Layout, { ...props, children: body }) as VNode;
    }
    const page = h(
      App,
      {
        title: mod.config?.title ?? "MaxIOFS",
        user: props.user,
        path: props.path,
        css: opts.assetUrls.css,
        js: opts.assetUrls.js,
        children: body,
      },
    );
    return html(renderToString(h(IslandContext.Provider, { value: registry }, page)), status);
  };

  return async (req: Request): Promise<Response | null> => {
    if (req.method !== "GET" && req.method !== "HEAD") return null;
    const url = new URL(req.url);
    const match = matchRoute(routes, url.pathname);
    const base = { path: url.pathname, search: url.search, params: {} as Record<string, string> };
    let user: SessionUser | null = null;
    try {
      user = await opts.session.current(req);
      if (!match) {
        if (!NotFound) return null;
        return render(NotFound, { ...base, user }, 404);
      }
      const mod = match.route.module;
      const cfg = mod.config ?? {};
      if (!cfg.public && !user) {
        const next = encodeURIComponent(url.pathname + url.search);
        return new Response(null, { status: 303, headers: { location: `/login?next=${next}` } });
      }
      if (cfg.guestOnly && user && !user.mustChangePassword) {
        return new Response(null, {
          status: 303,
          headers: { location: safeNext(url.searchParams.get("next")) },
        });
      }
      if (user?.mustChangePassword && !cfg.public && url.pathname !== "/profile") {
        return new Response(null, {
          status: 303,
          headers: { location: "/login?step=change" },
        });
      }
      if ((cfg.admin && !isAdmin(user)) || (cfg.globalAdmin && !isGlobalAdmin(user))) {
        return NotFound ? render(NotFound, { ...base, user }, 404) : null;
      }
      return render(mod, { ...base, params: match.params, user }, 200, match.route.file);
    } catch (e) {
      opts.log.error("console page failed", {
        path: url.pathname,
        error: String((e as Error)?.stack ?? e),
      });
      if (!ServerError) return html("<h1>Internal error</h1>", 500);
      try {
        return render(ServerError, { ...base, user }, 500);
      } catch {
        return html("<h1>Internal error</h1>", 500);
      }
    }
  };
}
