/**
 * Serves share links on the S3 listener: `GET|HEAD /_share/<token>` without a signature.
 * `_share` can never be a bucket's name (S3 names have no `_`), so the path cannot hide a bucket;
 * a virtual-host or website request (`<bucket>.<domain>/_share/...`) is an object key and left to
 * S3.
 *
 * The link's object is read by the S3 front end itself (`S3Front.handleAs`) as the link's creator:
 * GetObject's authorization, conditionals (304/412), Range (206/416), Content-Type and
 * Content-Disposition are exactly those of an S3 GET by that user, so a creator who loses read
 * access (or is disabled, or whose tenant is suspended) takes their links down with it. Every use
 * is audited (`share.access`), refusals included, and counts against the visitor's address in the
 * S3 rate limit (`s3RequestsPerSecondPerAddress`) as an S3 request would (refusals too: each
 * writes an audit entry). A revoked, expired or unknown link answers 403 AccessDenied with S3's
 * error document.
 */
import { errorResponse, newRequestId } from "../../s3/handler.ts";
import { S3Error } from "../../s3/errors.ts";
import { normalizeDomain, splitTarget, vhostBucket } from "../../s3/endpoint.ts";
import { uriEncode } from "../../s3/auth/sigv4.ts";
import { principalOf } from "../../iam/access_keys.ts";
import { getUser } from "../../iam/users.ts";
import { getTenant } from "../../iam/tenants.ts";
import { recordAudit } from "../../iam/audit.ts";
import type { IamCore } from "../../iam/core.ts";
import type { Client } from "../../iam/net.ts";
import type { Principal } from "../../iam/types.ts";
import type { S3Front } from "../../s3/handler.ts";
import type { Backend } from "../../storage/mod.ts";
import type { Logger } from "../../log.ts";
import type { S3Gate } from "../../s3/gate.ts";
import type { ShareLink, ShareLinks } from "./store.ts";

export const SHARE_PREFIX = "/_share/";

/** Request headers a share link passes on to GetObject (conditionals and ranges). */
const PASSED = ["range", "if-match", "if-none-match", "if-modified-since", "if-unmodified-since"];

export interface ShareServerDeps {
  links: ShareLinks;
  core: IamCore;
  storage: Backend;
  handleAs: S3Front["handleAs"];
  /** The S3 virtual-host domain (`--domain`), if any. */
  domain: string | null;
  /** The static website domain (`--website-domain`), if any. */
  websiteDomain?: string | null;
  /** Maintenance mode and the per-address rate limit (absent: nothing is refused). */
  gate?: S3Gate;
  log: Logger;
}

/** Why a link is refused (the audit's detail); the answer is AccessDenied in every case. */
type Refusal = "unknown link" | "revoked" | "expired" | "creator" | "bucket";

export class ShareServer {
  readonly #deps: ShareServerDeps;
  /** Host domains whose subdomains name a bucket (virtual hosts, websites). */
  readonly #domains: (string | null)[];

  constructor(deps: ShareServerDeps) {
    this.#deps = deps;
    this.#domains = [normalizeDomain(deps.domain), normalizeDomain(deps.websiteDomain ?? null)];
  }

  /** The answer to a share-link request, or null when `req` is not one (S3 handles it). */
  response(req: Request, client: Client): Promise<Response> | null {
    const target = splitTarget(req);
    if (!target.rawPath.startsWith(SHARE_PREFIX)) return null;
    if (this.#domains.some((d) => vhostBucket(target.host, d) !== null)) return null;
    return this.#serve(req, client, target.rawPath.slice(SHARE_PREFIX.length));
  }

  async #serve(req: Request, client: Client, token: string): Promise<Response> {
    const requestId = newRequestId();
    const resource = SHARE_PREFIX.slice(0, -1);
    const refuse = (code: "AccessDenied" | "MethodNotAllowed") =>
      errorResponse(new S3Error(code), { method: req.method, resource, requestId });
    if (req.method !== "GET" && req.method !== "HEAD") {
      req.body?.cancel().catch(() => {});
      return refuse("MethodNotAllowed");
    }
    const link = /^[A-Za-z0-9_-]{43}$/.test(token) ? this.#deps.links.byToken(token) : null;
    const refusal = link === null ? "unknown link" : await this.#refusal(link);
    const principal = link !== null && refusal === null ? this.#creatorPrincipal(link) : null;
    if (link === null || principal === null) {
      // A refusal is an audit insert: the address's rate limit comes first (SlowDown, unaudited).
      try {
        this.#deps.gate?.admitAddress(client);
      } catch (e) {
        if (!(e instanceof S3Error)) throw e;
        return errorResponse(e, { method: req.method, resource, requestId });
      }
      this.#audit(req, client, link, "denied", refusal ?? "creator");
      return refuse("AccessDenied");
    }
    const headers = new Headers();
    for (const h of PASSED) {
      const v = req.headers.get(h);
      if (v !== null) headers.set(h, v);
    }
    const ua = req.headers.get("user-agent");
    if (ua) headers.set("user-agent", ua);
    const path = `/${link.bucket}/${uriEncode(link.key, true)}`;
    const query = link.versionId ? `?versionId=${uriEncode(link.versionId)}` : "";
    const res = await this.#deps.handleAs(
      new Request(`http://127.0.0.1${path}${query}`, { method: req.method, headers }),
      principal,
      client,
      { limitAddress: true },
    );
    const ok = res.status < 400;
    if (ok) this.#deps.links.recordAccess(link.id);
    this.#audit(
      req,
      client,
      link,
      ok ? "success" : res.status === 403 ? "denied" : "failure",
      `status ${res.status}, request ${res.headers.get("x-amz-request-id") ?? requestId}`,
    );
    // The token is in the URL: a page the object links to must not receive it as a Referer.
    res.headers.set("referrer-policy", "no-referrer");
    return res;
  }

  async #refusal(link: ShareLink): Promise<Exclude<Refusal, "unknown link" | "creator"> | null> {
    const status = this.#deps.links.status(link);
    if (status !== "active") return status;
    // A bucket deleted and created again under the same name is another bucket.
    const bucket = await this.#deps.storage.getBucket(link.ns, link.bucket).catch(() => null);
    if (!bucket || bucket.id !== link.bucketId) return "bucket";
    return null;
  }

  /**
   * The creator as an S3 principal acting in the link's namespace, or null when they may no
   * longer act at all (deleted, disabled, tenant suspended, moved out of the namespace).
   */
  #creatorPrincipal(link: ShareLink): Principal | null {
    const core = this.#deps.core;
    const u = getUser(core, link.createdBy);
    if (!u || u.status !== "active") return null;
    if (u.tenantId && getTenant(core, u.tenantId)?.status !== "active") return null;
    const principal = principalOf({
      id: u.id,
      username: u.username,
      tenant_id: u.tenantId,
      role: u.role,
    });
    if (link.ns === (u.tenantId ?? "")) return principal;
    // A global administrator's link to a tenant's object reads in that tenant's namespace.
    if (u.role !== "global_admin") return null;
    return { ...principal, tenantId: link.ns || null };
  }

  #audit(
    req: Request,
    client: Client,
    link: ShareLink | null,
    result: "success" | "failure" | "denied",
    detail: string,
  ): void {
    try {
      recordAudit(this.#deps.core, {
        actorId: null,
        actorName: "share link",
        tenantId: link ? link.ns || null : null,
        action: "share.access",
        resource: link ? `bucket/${link.bucket}/${link.key}` : null,
        ip: client.ip,
        userAgent: req.headers.get("user-agent"),
        result,
        detail: (link ? `share ${link.id}: ${detail}` : detail).slice(0, 500),
      });
    } catch (e) {
      this.#deps.log.warn("share audit write failed", { error: String(e) });
    }
  }
}
