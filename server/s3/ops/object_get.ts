/** GetObject and HeadObject: conditionals, ranges, part numbers, response-* overrides. */
import { S3Error } from "../errors.ts";
import { etagListMatches, partRange } from "../../storage/mod.ts";
import { objectResponseHeaders } from "../headers.ts";
import { addExpirationHeader } from "./lifecycle.ts";
import { setVersionIdHeader } from "./object_put.ts";
import { isSosapiKey, serveSosapi } from "./veeam.ts";
import { transportOf } from "./encryption.ts";
import { checkCustomerKey, customerKeyFrom, refuseSseHeaders, sseResponseHeaders } from "../sse.ts";
import type { OpContext, OpResult } from "../context.ts";
import type { BucketRecord, ByteRange, ObjectRecord, OpenBytes } from "../../storage/types.ts";

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
 * Reads a copy source (CopyObject, UploadPartCopy) through `use`, as storage's `readObject` does
 * (again when the source is replaced under the copy), except that naming a delete marker by
 * version id is `InvalidRequest`, as S3 answers. An SSE-C source needs its key in the
 * `x-amz-copy-source-server-side-encryption-customer-*` headers, checked on each record read.
 */
export async function readCopySource<T>(
  ctx: OpContext,
  bucket: BucketRecord,
  key: string,
  versionId: string | null,
  use: (rec: ObjectRecord, open: OpenBytes) => Promise<T>,
): Promise<T> {
  const customer = customerKeyFrom(ctx.req.headers, transportOf(ctx), { source: true });
  try {
    return await ctx.deps.storage.readObject(bucket, key, versionId, (rec, open) => {
      checkCustomerKey(rec.enc, customer);
      return use(rec, open);
    }, customer);
  } catch (e) {
    if (!(e instanceof S3Error) || e.code !== "MethodNotAllowed") throw e;
    throw new S3Error("InvalidRequest", {
      message:
        "The source of a copy request may not specifically refer to a delete marker by version id.",
    });
  }
}

/**
 * The record an object request addresses (`?versionId=` included). Storage answers
 * NoSuchVersion, 404 + x-amz-delete-marker for a latest marker, and 405 MethodNotAllowed for a
 * marker's versionId.
 */
export async function readTarget(ctx: OpContext): Promise<ObjectRecord> {
  const bucket = await ctx.bucket();
  return await ctx.deps.storage.getObjectRecord(bucket, ctx.ep.key!, ctx.ep.query.get("versionId"));
}

/** The byte range a GET/HEAD asks of a record (Range header or partNumber), with its status. */
interface ReadPlan {
  range: ByteRange | null;
  status: number;
  partsCount?: number | null;
}

function planRead(ctx: OpContext, rec: ObjectRecord): ReadPlan {
  const partNumber = ctx.ep.query.get("partNumber");
  if (partNumber !== null) {
    if (ctx.req.headers.has("range")) {
      throw new S3Error("InvalidRequest", {
        message: "Cannot specify both Range header and partNumber query parameter",
      });
    }
    const pr = partRange(rec, partNumber);
    return { range: pr.range, status: 206, partsCount: pr.partsCount };
  }
  const range = parseRange(ctx.req.headers.get("range"), rec.size);
  return { range, status: range ? 206 : 200 };
}

async function serve(ctx: OpContext, withBody: boolean): Promise<OpResult> {
  const q = ctx.ep.query;
  refuseSseHeaders(ctx.req.headers);
  const customer = customerKeyFrom(ctx.req.headers, transportOf(ctx));
  const bucket = await ctx.bucket();
  let plan: ReadPlan = { range: null, status: 200 };
  // Storage reads the record again when its bytes vanish under the read (an overwrite): the
  // conditions and the range are judged on each record read, the headers on the one returned.
  const { rec, body } = await ctx.deps.storage.getObject(bucket, ctx.ep.key!, {
    versionId: q.get("versionId"),
    ...(customer ? { customer } : {}),
    range: (rec) => {
      checkCustomerKey(rec.enc, customer);
      checkReadConditions(ctx.req.headers, rec);
      plan = planRead(ctx, rec);
      if (!withBody) return false;
      const r = plan.range;
      const whole = r && r.start === 0 && r.end === rec.size - 1 && q.get("partNumber") === null;
      return whole ? null : r;
    },
  });
  const headers = objectResponseHeaders(rec, {
    checksumMode: ctx.req.headers.get("x-amz-checksum-mode")?.toUpperCase() === "ENABLED",
  });
  Object.assign(headers, sseResponseHeaders(rec.enc));
  setVersionIdHeader(headers, rec, bucket);
  if (q.get("versionId") === null) await addExpirationHeader(ctx, bucket, rec, headers);
  for (const [param, header] of OVERRIDES) {
    const v = q.get(param);
    if (v !== null) headers[header] = overrideValue(param, v);
  }
  const { range, status } = plan;
  if (plan.partsCount) headers["x-amz-mp-parts-count"] = String(plan.partsCount);
  // A whole-object checksum does not describe a partial body (a range or one part), and
  // clients that validate it (boto3, the SDKs with checksum mode) would reject the body.
  if (range && range.end - range.start + 1 < rec.size) dropChecksumHeaders(headers);
  if (range) {
    headers["content-range"] = `bytes ${range.start}-${range.end}/${rec.size}`;
    headers["content-length"] = String(range.end - range.start + 1);
  } else {
    headers["content-length"] = String(rec.size);
  }
  return withBody ? { status, headers, body } : { status, headers };
}

export async function getObject(ctx: OpContext): Promise<OpResult> {
  return (isSosapiKey(ctx.ep.key) && await serveSosapi(ctx, true)) || await serve(ctx, true);
}

export async function headObject(ctx: OpContext): Promise<OpResult> {
  return (isSosapiKey(ctx.ep.key) && await serveSosapi(ctx, false)) || await serve(ctx, false);
}
