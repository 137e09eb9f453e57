/** Request context, JSON helpers and the tiny router of the console API. */
import type { Replication } from "../../server/features/replication/service.ts";
import { IamError } from "../../server/iam/errors.ts";
import { readBodyBytes } from "../../server/s3/body.ts";
import { isS3Error } from "../../server/s3/errors.ts";
import type { Iam } from "../../server/iam/mod.ts";
import type { Session } from "../../server/iam/sessions.ts";
import type { User } from "../../server/iam/users.ts";
import type { Backend } from "../../server/storage/mod.ts";
import type { Logger } from "../../server/log.ts";
import type { Client } from "../../server/iam/net.ts";
import type { S3Front } from "../../server/s3/handler.ts";
import type { Scrubber } from "../../server/features/integrity/scrubber.ts";
import type { AlertMonitor } from "../../server/features/alerts/monitor.ts";
import type { EmailSettings } from "../../server/features/alerts/mailer.ts";
import type { HistoryRecorder } from "../../server/features/history/recorder.ts";
import type { EventHub } from "../../server/http/events.ts";
import type { KeyService } from "../../server/crypto/types.ts";
import type { InventoryWorker } from "../../server/features/inventory/worker.ts";
import type { MasterKeyRotation } from "../../server/features/encryption/rotation.ts";
import type { Notifications } from "../../server/features/notifications/mod.ts";
import type { ShareLinks } from "../../server/features/shares/store.ts";

export interface ApiDeps {
  iam: Iam;
  /** Bucket metadata (bucket list with stats, bucket ids for grants). */
  storage: Backend;
  /**
   * The in-process S3 handler's entry for an already authenticated principal, for the `/s3/...`
   * passthrough and the bucket routes (`S3Front.handleAs`).
   */
  s3HandleAs: S3Front["handleAs"];
  region: string;
  /**
   * The website endpoint (`--website-domain`, as configured, port included when given) and the
   * scheme of the S3 listener; absent when the server serves no websites.
   */
  website?: { domain: string; scheme: "http" | "https" };
  /** The integrity scrubber: its status, and on-demand bucket checks. */
  integrity: Scrubber;
  /** The consoles' event stream (`GET /events`). */
  events: EventHub;
  /** The key service of SSE-KMS (its keys: `/kms/keys`). */
  kms: KeyService;
  log: Logger;
  /** Alerts (list, read marks, resolve, check now); absent: the alert routes answer 404. */
  alerts?: AlertMonitor;
  /** The mail settings in force, the password opened (the Test email button). */
  emailSettings?: () => Promise<EmailSettings | null>;
  /** Per-minute request figures (the Metrics page); absent: its route answers 404. */
  history?: HistoryRecorder;
  /** Master-key status and rotation (encryption_routes.ts); absent: not set up. */
  encryption?: MasterKeyRotation;
  /** Webhook targets and dead letters of event notifications; absent: their routes answer 404. */
  notifications?: Notifications;
  /** Bucket inventory reports: history and Run now (bucket_services_routes.ts). */
  inventory?: InventoryWorker;
  /** Share links (share_routes.ts). */
  shares: ShareLinks;
  /**
   * The S3 listener's URL as the user reaches it, for share links and presigned URLs: the
   * configured `--public-url`, else the console request's host name with the S3 listener's port.
   */
  s3PublicUrl(req: Request): string;
  /** Bucket replication (replication_routes.ts); absent: its routes answer 404. */
  replication?: Replication;
}

export interface ApiCtx {
  req: Request;
  url: URL;
  params: Record<string, string>;
  /** Who sent the request (the console listener resolved it). */
  client: Client;
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

/** JSON bodies read by `readJson`, per request (the failure audit names targets from them). */
const parsedBodies = new WeakMap<Request, Record<string, unknown>>();

/** The JSON object `readJson` read from `req`, if it did. */
export function parsedJsonOf(req: Request): Record<string, unknown> | null {
  return parsedBodies.get(req) ?? null;
}

/** The request's JSON object body, read with a 1 MiB bound (declared or not). */
export async function readJson(req: Request): Promise<Record<string, unknown>> {
  const MAX = 1 << 20;
  if (Number(req.headers.get("content-length") ?? 0) > MAX) {
    throw new IamError("InvalidRequest", "body too large");
  }
  let text: string;
  try {
    text = new TextDecoder().decode(await readBodyBytes(req.body, MAX));
  } catch (e) {
    const code = isS3Error(e) ? e.code : "";
    throw new IamError(
      "InvalidRequest",
      code === "MaxMessageLengthExceeded" ? "body too large" : "the body was cut short",
    );
  }
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
  parsedBodies.set(req, v as Record<string, unknown>);
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
  /** A change allowed in maintenance mode (sign-in, settings); other changes answer 503. */
  duringMaintenance?: boolean;
  /**
   * The audit action of a change (`user.create`): the route records its success itself, and the
   * router records its failures (`audit_failures.ts`) under the same action.
   */
  audit?: string;
  handler: Handler | PublicHandler;
}

/** `/users/:id/sessions` -> a matcher with named parameters; `*rest` takes the remainder. */
export function route(
  method: string,
  path: string,
  handler: Handler,
  opts: { duringPasswordChange?: boolean; duringMaintenance?: boolean; audit?: string } = {},
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
    duringMaintenance: opts.duringMaintenance,
    audit: opts.audit,
  };
}

export function publicRoute(
  method: string,
  path: string,
  handler: PublicHandler,
  opts: { duringMaintenance?: boolean } = {},
): Route {
  return { ...route(method, path, handler as Handler, opts), auth: false };
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
