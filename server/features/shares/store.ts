/**
 * Share links: a public, expiring, revocable link to one object (a version, optionally), kept in
 * the `share_links` table (migration 10). The token a link carries is 32 random bytes shown once
 * at creation; the table keeps only its SHA-256, so a copy of the database opens no object. A
 * link reads with its creator's access: `serve.ts` checks it again at every use.
 */
import { createHash } from "node:crypto";
import { randomHex } from "../../hex.ts";
import type { Clock } from "../../clock.ts";
import type { Db } from "../../db/mod.ts";

/** The longest a link may live. */
export const MAX_SHARE_MS = 90 * 24 * 3600 * 1000;
/** The shortest a link may live (shorter is a mistake, not a wish). */
export const MIN_SHARE_MS = 60 * 1000;

export interface ShareLink {
  /** Public handle of the link (list, revoke); not the token. */
  id: string;
  /** The bucket's namespace ('' global, else a tenant id). */
  ns: string;
  bucket: string;
  bucketId: string;
  key: string;
  /** A version of the object, or null for whatever is the latest when the link is opened. */
  versionId: string | null;
  createdBy: string;
  createdByName: string;
  createdAt: number;
  expiresAt: number;
  revokedAt: number | null;
  revokedBy: string | null;
  accessCount: number;
  lastAccessAt: number | null;
}

export type ShareStatus = "active" | "expired" | "revoked";

export interface NewShare {
  ns: string;
  bucket: string;
  bucketId: string;
  key: string;
  versionId: string | null;
  createdBy: string;
  createdByName: string;
  /** Milliseconds from now; MIN_SHARE_MS to MAX_SHARE_MS. */
  expiresInMs: number;
}

export interface ShareFilter {
  ns?: string;
  bucket?: string;
  createdBy?: string;
  /** Expired and revoked links too (default: active only). */
  all?: boolean;
  limit?: number;
}

type Row = Record<string, unknown>;

function toLink(r: Row): ShareLink {
  return {
    id: r.id as string,
    ns: r.ns as string,
    bucket: r.bucket as string,
    bucketId: r.bucket_id as string,
    key: r.object_key as string,
    versionId: (r.version_id as string | null) ?? null,
    createdBy: r.created_by as string,
    createdByName: r.created_by_name as string,
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
    revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
    revokedBy: (r.revoked_by as string | null) ?? null,
    accessCount: Number(r.access_count),
    lastAccessAt: r.last_access_at === null ? null : Number(r.last_access_at),
  };
}

/** The SHA-256 (hex) a token is stored and looked up as. */
export function tokenHash(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** 32 random bytes, base64url without padding (43 characters). */
function newToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_")
    .replace(/=+$/, "");
}

/** Why `ms` is not a link's lifetime, or null. */
export function expiryProblem(ms: unknown): string | null {
  if (typeof ms !== "number" || !Number.isFinite(ms)) return "expiresInSeconds must be a number";
  if (ms < MIN_SHARE_MS) return "a share link must live at least 60 seconds";
  if (ms > MAX_SHARE_MS) return "a share link may live at most 90 days";
  return null;
}

export class ShareLinks {
  readonly #db: Db;
  readonly #clock: Clock;

  constructor(opts: { db: Db; clock: Clock }) {
    this.#db = opts.db;
    this.#clock = opts.clock;
  }

  /** Creates a link; the token is returned here only. */
  create(input: NewShare): { link: ShareLink; token: string } {
    const problem = expiryProblem(input.expiresInMs);
    if (problem) throw new RangeError(problem);
    const token = newToken();
    const id = randomHex(8);
    const now = this.#clock.now();
    this.#db.prepare(
      `INSERT INTO share_links (id, token_hash, ns, bucket, bucket_id, object_key, version_id,
         created_by, created_by_name, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      id,
      tokenHash(token),
      input.ns,
      input.bucket,
      input.bucketId,
      input.key,
      input.versionId,
      input.createdBy,
      input.createdByName,
      now,
      now + Math.floor(input.expiresInMs),
    );
    return { link: this.get(id)!, token };
  }

  get(id: string): ShareLink | null {
    const r = this.#db.prepare("SELECT * FROM share_links WHERE id = ?").get(id) as Row | undefined;
    return r ? toLink(r) : null;
  }

  byToken(token: string): ShareLink | null {
    const r = this.#db.prepare("SELECT * FROM share_links WHERE token_hash = ?")
      .get(tokenHash(token)) as Row | undefined;
    return r ? toLink(r) : null;
  }

  status(link: ShareLink): ShareStatus {
    if (link.revokedAt !== null) return "revoked";
    return this.#clock.now() >= link.expiresAt ? "expired" : "active";
  }

  /** Newest first. */
  list(f: ShareFilter = {}): ShareLink[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (f.ns !== undefined) (where.push("ns = ?"), args.push(f.ns));
    if (f.bucket !== undefined) (where.push("bucket = ?"), args.push(f.bucket));
    if (f.createdBy !== undefined) (where.push("created_by = ?"), args.push(f.createdBy));
    if (!f.all) {
      where.push("revoked_at IS NULL AND expires_at > ?");
      args.push(this.#clock.now());
    }
    const limit = Math.max(1, Math.min(f.limit ?? 1000, 1000));
    const rows = this.#db.prepare(
      `SELECT * FROM share_links ${where.length ? "WHERE " + where.join(" AND ") : ""}
       ORDER BY created_at DESC, id LIMIT ${limit}`,
    ).all(...args) as Row[];
    return rows.map(toLink);
  }

  /** Revokes a link (again: no change); false when there is no such link. */
  revoke(id: string, by: string): boolean {
    const res = this.#db.prepare(
      "UPDATE share_links SET revoked_at = COALESCE(revoked_at, ?), revoked_by = COALESCE(revoked_by, ?) WHERE id = ?",
    ).run(this.#clock.now(), by, id);
    return Number(res.changes) > 0;
  }

  recordAccess(id: string): void {
    this.#db.prepare(
      "UPDATE share_links SET access_count = access_count + 1, last_access_at = ? WHERE id = ?",
    ).run(this.#clock.now(), id);
  }
}
