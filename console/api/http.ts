/** Request context, JSON helpers and the tiny router of the console API. */
import { IamError } from "../../server/iam/errors.ts";
import type { Iam } from "../../server/iam/mod.ts";
import type { Session } from "../../server/iam/sessions.ts";
import type { User } from "../../server/iam/users.ts";
import type { Backend } from "../../server/storage/backend.ts";
import type { Logger } from "../../server/storage/core.ts";

export interface ApiDeps {
  iam: Iam;
  /** Bucket metadata (bucket list with stats, bucket ids for grants). */
  storage: Backend;
  /** The in-process S3 handler, for the `/s3/...` passthrough. */
  s3Handler: (req: Request) => Promise<Response>;
  region: string;
  log: Logger;
}

export interface ApiCtx {
  req: Request;
  url: URL;
  params: Record<string, string>;
  ip: string | null;
  userAgent: string | null;
  deps: ApiDeps;
  /** Set for authenticated routes. */
  session: Session | null;
  user: User | null;
  /** True when the token came from the cookie (CSRF rules apply). */
  viaCookie: boolean;
}

export type Authed = ApiCtx & { session: Session; user: User };

export function json(body: unknown, status = 200, headers: HeadersInit = {}): Response {
  const h = new Headers(headers);
  h.set("content-type", "application/json; charset=utf-8");
  h.set("cache-control", "no-store");
  return new Response(JSON.stringify(body), { status, headers: h });
}

export function noContent(headers: HeadersInit = {}): Response {
  const h = new Headers(headers);
  h.set("cache-control", "no-store");
  return new Response(null, { status: 204, headers: h });
}

export function errorResponse(e: IamError): Response {
  const headers: Record<string, string> = {};
  if (typeof e.extra.retryAfter === "number") headers["retry-after"] = String(e.extra.retryAfter);
  return json({ error: { code: e.code, message: e.message, ...e.extra } }, e.status, headers);
}

/** Reads a JSON object body (at most 1 MiB). */
export async function readJson(req: Request): Promise<Record<string, unknown>> {
  if (Number(req.headers.get("content-length") ?? 0) > 1 << 20) {
    throw new IamError("InvalidRequest", "body too large");
  }
  const text = await req.text();
  if (text.length > 1 << 20) throw new IamError("InvalidRequest", "body too large");
  if (!text.trim()) return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new IamError("InvalidRequest", "body is not valid JSON");
  }
  if (!v || typeof v !== "object" || Array.isArray(v)) {
    throw new IamError("InvalidRequest", "body must be a JSON object");
  }
  return v as Record<string, unknown>;
}

export type Handler = (ctx: Authed) => Promise<Response> | Response;
export type PublicHandler = (ctx: ApiCtx) => Promise<Response> | Response;

export interface Route {
  method: string;
  pattern: RegExp;
  names: string[];
  /** The declared path (`/users/:id`), e.g. for the audit of failed changes. */
  path: string;
  auth: boolean;
  /** Usable while the user must change the password. */
  duringPasswordChange?: boolean;
  handler: Handler | PublicHandler;
}

/** `/users/:id/sessions` -> a matcher with named parameters; `*rest` takes the remainder. */
export function route(
  method: string,
  path: string,
  handler: Handler,
  opts: { duringPasswordChange?: boolean } = {},
): Route {
  const names: string[] = [];
  const re = path.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\/:(\w+)/g, (_, n) => {
    names.push(n);
    return "/([^/]+)";
  }).replace(/\/\*(\w+)$/, (_, n) => {
    names.push(n);
    return "(/.*)?";
  });
  return {
    method,
    pattern: new RegExp(`^${re}$`),
    names,
    path,
    auth: true,
    handler,
    duringPasswordChange: opts.duringPasswordChange,
  };
}

export function publicRoute(method: string, path: string, handler: PublicHandler): Route {
  return { ...route(method, path, handler as Handler), auth: false };
}

export function intParam(url: URL, name: string, def?: number): number | undefined {
  const v = url.searchParams.get(name);
  if (v === null || v === "") return def;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new IamError("InvalidRequest", `${name} must be a number`);
  return n;
}

const AUDITED = Symbol("audited");

/** Marks an error whose failure was already audited elsewhere (the S3 handler's bucket audit). */
export function markAudited<E extends object>(e: E): E {
  Object.defineProperty(e, AUDITED, { value: true });
  return e;
}

export function isAudited(e: unknown): boolean {
  return typeof e === "object" && e !== null && AUDITED in e;
}
