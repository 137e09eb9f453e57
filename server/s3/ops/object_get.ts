/** GetObject and HeadObject: conditionals, ranges, part numbers, response-* overrides. */
import { S3Error } from "../errors.ts";
import { etagListMatches } from "../../storage/objects.ts";
import { BlobGone } from "../../storage/objects.ts";
import { objectResponseHeaders } from "../headers.ts";
import { partRange } from "../../storage/parts.ts";
import { addExpirationHeader } from "./lifecycle.ts";
import { setVersionIdHeader } from "./object_put.ts";
import type { OpContext, OpResult } from "../context.ts";
import type { BucketRecord, ByteRange, ObjectRecord } from "../../storage/types.ts";

/**
 * Parses a single `bytes=` range against a size. Returns null when the header should be
 * ignored (absent or not a single byte range, as S3 does) and throws `InvalidRange` when unsatisfiable.
 */
export function parseRange(header: string | null, size: number): ByteRange | null {
  if (!header) return null;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/.exec(header);
  if (!m || (m[1] === "" && m[2] === "")) return null;
  const unsatisfiable = () =>
    new S3Error("InvalidRange", {
      fields: { RangeRequested: header, ActualObjectSize: String(size) },
    });
  if (m[1] === "") {
    const n = Number(m[2]);
    if (n === 0 || size === 0) throw unsatisfiable();
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== "" && Number(m[2]) < start) return null;
  if (start >= size) throw unsatisfiable();
  return { start, end };
}

function httpDate(s: string | null): number | null {
  if (!s) return null;
  const t = Date.parse(s);
  return Number.isNaN(t) ? null : t;
}

/** The four conditional request headers (GET/HEAD's own, or CopyObject's `x-amz-copy-source-if-*`). */
export interface ReadConditions {
  ifMatch: string | null;
  ifNoneMatch: string | null;
  ifUnmodifiedSince: string | null;
  ifModifiedSince: string | null;
}

export type FailedCondition =
  | "If-Match"
  | "If-Unmodified-Since"
  | "If-None-Match"
  | "If-Modified-Since";

/**
 * The condition that fails for a record, with AWS precedence (If-Match decides over
 * If-Unmodified-Since, If-None-Match over If-Modified-Since; the first pair first), or null.
 * Times compare at whole seconds, as Last-Modified is sent.
 */
export function failedCondition(c: ReadConditions, rec: ObjectRecord): FailedCondition | null {
  const lastModSec = Math.floor(rec.lastModified / 1000) * 1000;
  const ius = httpDate(c.ifUnmodifiedSince);
  const ims = httpDate(c.ifModifiedSince);
  if (c.ifMatch !== null) {
    if (!etagListMatches(c.ifMatch, rec.etag)) return "If-Match";
  } else if (ius !== null && lastModSec > ius) {
    return "If-Unmodified-Since";
  }
  if (c.ifNoneMatch !== null) {
    if (etagListMatches(c.ifNoneMatch, rec.etag)) return "If-None-Match";
  } else if (ims !== null && lastModSec <= ims) {
    return "If-Modified-Since";
  }
  return null;
}

/** GET/HEAD conditionals: a failed If-Match/If-Unmodified-Since is 412, the others 304. */
export function checkReadConditions(h: Headers, rec: ObjectRecord): void {
  const failed = failedCondition({
    ifMatch: h.get("if-match"),
    ifNoneMatch: h.get("if-none-match"),
    ifUnmodifiedSince: h.get("if-unmodified-since"),
    ifModifiedSince: h.get("if-modified-since"),
  }, rec);
  if (failed === "If-Match" || failed === "If-Unmodified-Since") {
    throw new S3Error("PreconditionFailed", { fields: { Condition: failed } });
  }
  if (failed !== null) {
    throw new S3Error("NotModified", {
      headers: { etag: rec.etag, "last-modified": new Date(rec.lastModified).toUTCString() },
    });
  }
}

function dropChecksumHeaders(headers: Record<string, string>): void {
  for (const name of Object.keys(headers)) {
    if (name.startsWith("x-amz-checksum-")) delete headers[name];
  }
}

/**
 * A `response-*` value as a header: its UTF-8 bytes go on the wire unchanged (header strings
 * are byte strings, so `日本` would otherwise fail the response); control characters such as
 * line breaks are refused.
 */
export function overrideValue(param: string, v: string): string {
  if ([...v].some((c) => (c < " " && c !== "\t") || c === "\x7f")) {
    throw new S3Error("InvalidArgument", {
      message: `Invalid value for ${param}`,
      fields: { ArgumentName: param },
    });
  }
  if (!/[^ -~\t]/.test(v)) return v;
  let out = "";
  for (const b of new TextEncoder().encode(v)) out += String.fromCharCode(b);
  return out;
}

const OVERRIDES: [string, string][] = [
  ["response-content-type", "content-type"],
  ["response-content-language", "content-language"],
  ["response-expires", "expires"],
  ["response-cache-control", "cache-control"],
  ["response-content-disposition", "content-disposition"],
  ["response-content-encoding", "content-encoding"],
];

/**
 * The one place that decides which record `(bucket, key, versionId)` names, for GET, HEAD,
 * GetObjectAttributes and copy sources. Versioned reads plug in here.
 */
export async function resolveRecord(
  ctx: OpContext,
  bucket: BucketRecord,
  key: string,
  versionId: string | null,
): Promise<ObjectRecord> {
  // Storage answers NoSuchVersion, 404 + x-amz-delete-marker for a latest marker, and 405
  // MethodNotAllowed for a marker's versionId.
  return await ctx.deps.storage.getObjectRecord(bucket, key, versionId);
}

/**
 * The record a copy source names (CopyObject, UploadPartCopy): as `resolveRecord`, except that
 * naming a delete marker by version id is `InvalidRequest`, as S3 answers.
 */
export async function resolveCopySource(
  ctx: OpContext,
  bucket: BucketRecord,
  key: string,
  versionId: string | null,
): Promise<ObjectRecord> {
  try {
    return await resolveRecord(ctx, bucket, key, versionId);
  } catch (e) {
    if (!(e instanceof S3Error) || e.code !== "MethodNotAllowed") throw e;
    throw new S3Error("InvalidRequest", {
      message:
        "The source of a copy request may not specifically refer to a delete marker by version id.",
    });
  }
}

/** Resolves the record a GET/HEAD addresses (`?versionId=` included). */
export async function readTarget(ctx: OpContext): Promise<ObjectRecord> {
  const bucket = await ctx.bucket();
  return await resolveRecord(ctx, bucket, ctx.ep.key!, ctx.ep.query.get("versionId"));
}

async function serve(ctx: OpContext, withBody: boolean): Promise<OpResult> {
  const q = ctx.ep.query;
  for (let attempt = 0; attempt < 5; attempt++) {
    const rec = await readTarget(ctx);
    checkReadConditions(ctx.req.headers, rec);
    const headers = objectResponseHeaders(rec, {
      checksumMode: ctx.req.headers.get("x-amz-checksum-mode")?.toUpperCase() === "ENABLED",
    });
    setVersionIdHeader(headers, rec, await ctx.bucket());
    if (q.get("versionId") === null) {
      await addExpirationHeader(ctx, await ctx.bucket(), rec, headers);
    }
    for (const [param, header] of OVERRIDES) {
      const v = q.get(param);
      if (v !== null) headers[header] = overrideValue(param, v);
    }
    let range: ByteRange | null = null;
    let status = 200;
    const partNumber = q.get("partNumber");
    if (partNumber !== null) {
      if (ctx.req.headers.has("range")) {
        throw new S3Error("InvalidRequest", {
          message: "Cannot specify both Range header and partNumber query parameter",
        });
      }
      const pr = partRange(rec, partNumber);
      range = pr.range;
      if (pr.partsCount) headers["x-amz-mp-parts-count"] = String(pr.partsCount);
      status = 206;
    } else {
      range = parseRange(ctx.req.headers.get("range"), rec.size);
      if (range) status = 206;
    }
    // A whole-object checksum does not describe a partial body (a range or one part), and
    // clients that validate it (boto3, the SDKs with checksum mode) would reject the body.
    if (range && range.end - range.start + 1 < rec.size) dropChecksumHeaders(headers);
    if (range) {
      headers["content-range"] = `bytes ${range.start}-${range.end}/${rec.size}`;
      headers["content-length"] = String(range.end - range.start + 1);
    } else {
      headers["content-length"] = String(rec.size);
    }
    if (!withBody) return { status, headers };
    if (range && range.start === 0 && range.end === rec.size - 1 && partNumber === null) {
      range = null;
    }
    try {
      const body = rec.size === 0
        ? null
        : await ctx.deps.storage.openObject(rec, range ?? undefined);
      return { status, headers, body };
    } catch (e) {
      if (e instanceof BlobGone) continue; // replaced between read and open: read again
      throw e;
    }
  }
  throw new S3Error("InternalError");
}

export function getObject(ctx: OpContext): Promise<OpResult> {
  return serve(ctx, true);
}

export function headObject(ctx: OpContext): Promise<OpResult> {
  return serve(ctx, false);
}
