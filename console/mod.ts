/**
 * The console listener: JSON API under /api/v1 (console/api), static assets, and the
 * server-rendered pages of routes/ with their islands. Every answer gets the security headers.
 */
import type { Logger } from "../server/log.ts";
import { type Client, NO_CLIENT } from "../server/iam/net.ts";
import { assets } from "./assets.gen.ts";
import { manifest } from "./manifest.gen.ts";
import { createPageHandler, type Manifest } from "./pages.ts";
import { withSecurityHeaders } from "./security.ts";
import { apiSessionResolver, type SessionResolver } from "./session.ts";
import { assetUrl, serveAsset } from "./static.ts";

export type Handler = (req: Request, client: Client) => Response | Promise<Response>;

export interface ConsoleDeps {
  log: Logger;
  /** The /api/v1 handler (createApiHandler from console/api). Absent: the API answers 503. */
  api?: Handler;
  /** Overrides how pages find the signed-in user (tests); default asks the API's /auth/me. */
  session?: SessionResolver;
}

const API_PREFIX = "/api/v1";

function apiUnavailable(): Response {
  return Response.json(
    { error: { code: "ServiceUnavailable", message: "The console API is not available." } },
    { status: 503 },
  );
}

export function createConsoleHandler(
  deps: ConsoleDeps,
): (req: Request, client: Client) => Promise<Response> {
  const api: Handler = deps.api ?? apiUnavailable;
  const pages = createPageHandler({
    manifest: manifest as unknown as Manifest,
    // Who is signed in is the API's answer to the page's own credentials; no client facts needed.
    session: deps.session ?? apiSessionResolver((r) => api(r, NO_CLIENT)),
    assetUrls: { css: assetUrl(assets, "app.css"), js: assetUrl(assets, "islands.js") },
    log: deps.log,
  });
  const route = async (req: Request, client: Client): Promise<Response> => {
    const url = new URL(req.url);
    const path = url.pathname;
    // main.ts answers /health and /ready (server/http/probes.ts) before this handler; this is
    // for a console served without them (tests). /api/v1/health is the API's.
    if (path === "/health") return Response.json({ status: "ok" });
    if (path === API_PREFIX || path.startsWith(`${API_PREFIX}/`)) return await api(req, client);
    if (path === "/favicon.ico") {
      return new Response(null, { status: 301, headers: { location: "/static/favicon.svg" } });
    }
    const asset = serveAsset(assets, req, url);
    if (asset) return asset;
    const page = await pages(req);
    if (page) return page;
    return new Response("Not Found\n", {
      status: 404,
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  };
  return async (req, client) => {
    try {
      return withSecurityHeaders(await route(req, client));
    } catch (e) {
      deps.log.error("console request failed", { error: String((e as Error)?.stack ?? e) });
      return withSecurityHeaders(new Response("Internal Server Error\n", { status: 500 }));
    }
  };
}
