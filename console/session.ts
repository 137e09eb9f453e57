/**
 * Who is looking at a page. The console API (console/api) owns sessions; pages and the object
 * endpoints ask it in-process with the request's cookie / bearer token (`GET /api/v1/auth/me`),
 * so there is one session implementation and one place that validates tokens.
 */

export interface SessionUser {
  id: string;
  username: string;
  /** "global_admin" | "tenant_admin" | "tenant_user" (as the API names them). */
  role: string;
  tenantId: string | null;
  mustChangePassword: boolean;
  twoFactorEnabled: boolean;
}

export interface SessionResolver {
  current(req: Request): Promise<SessionUser | null>;
}

export function isGlobalAdmin(u: SessionUser | null): boolean {
  return !!u && /global/.test(u.role) && /admin/.test(u.role);
}

export function isAdmin(u: SessionUser | null): boolean {
  return !!u && /admin/.test(u.role);
}

type Json = Record<string, unknown>;

function str(v: unknown): string | null {
  return typeof v === "string" ? v : typeof v === "number" ? String(v) : null;
}

/** Reads the `me` document leniently (`{user: {...}}` or the user itself; snake or camel case). */
export function parseMe(doc: unknown): SessionUser | null {
  if (!doc || typeof doc !== "object") return null;
  const d = doc as Json;
  const u = (d.user && typeof d.user === "object" ? d.user : d) as Json;
  const id = str(u.id ?? u.userId ?? u.user_id);
  const username = str(u.username ?? u.name);
  if (!id && !username) return null;
  return {
    id: id ?? username!,
    username: username ?? id!,
    role: str(u.role) ?? "tenant_user",
    tenantId: str(u.tenantId ?? u.tenant_id) ?? null,
    mustChangePassword: !!(u.mustChangePassword ?? u.must_change_password ??
      d.mustChangePassword ?? d.must_change_password),
    twoFactorEnabled: !!(u.totpEnabled ?? u.twoFactorEnabled ?? u.totp_enabled ??
      u.mfaEnabled),
  };
}

/** Forwards only the credentials of the original request to the API's `me` endpoint. */
export function apiSessionResolver(
  api: (req: Request) => Response | Promise<Response>,
): SessionResolver {
  return {
    async current(req) {
      const headers = new Headers();
      for (const name of ["cookie", "authorization", "user-agent"]) {
        const v = req.headers.get(name);
        if (v) headers.set(name, v);
      }
      const origin = new URL(req.url).origin;
      const res = await api(new Request(`${origin}/api/v1/auth/me`, { headers }));
      if (!res.ok) {
        await res.body?.cancel();
        return null;
      }
      return parseMe(await res.json().catch(() => null));
    },
  };
}
