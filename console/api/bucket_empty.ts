/**
 * Emptying a bucket, and force-deleting it: every object version and delete marker is deleted
 * with DeleteObjects (1,000 per request, a page of ListObjectVersions at a time, so memory stays
 * bounded whatever the bucket holds), every multipart upload is aborted, then (force-delete)
 * the bucket itself. Each step is an S3 request run in-process as the session user, so S3's own
 * authorization, Object Lock rules, audit and change feed apply: a version under retention or
 * legal hold is refused by S3 and reported, never bypassed.
 */
import { createHash } from "node:crypto";
import { child, children, childText, parseXml, type XmlNode } from "../../server/s3/xml.ts";
import { IamError } from "../../server/iam/errors.ts";
import type { Logger } from "../../server/log.ts";
import { scopeTenant } from "./access.ts";
import { audit } from "./admin_routes.ts";
import { type Authed, readJson, type Route, route } from "./http.ts";
import { nsParam, runS3 } from "./s3_call.ts";

/** A version S3 refused to delete (Object Lock, or the caller's permissions). */
export interface RefusedVersion {
  key: string;
  versionId: string;
  code: string;
  message: string;
}

/** Where an empty or force-delete stands; sent after each batch and once at the end. */
export interface EmptyProgress {
  /** Object versions deleted (null versions of unversioned buckets included). */
  versions: number;
  deleteMarkers: number;
  uploadsAborted: number;
  /** How many versions S3 refused; the first `MAX_REPORTED` of them are in `refused`. */
  refusedCount: number;
  refused: RefusedVersion[];
  /** Set on the last line. */
  done?: boolean;
  /** Force-delete: whether DeleteBucket succeeded (last line). */
  bucketDeleted?: boolean;
  /** An S3 error that stopped the run (last line). */
  error?: { code: string; message: string };
}

/** The page size of the listing, and S3's limit of keys per DeleteObjects. */
export const EMPTY_BATCH = 1000;
/** Refused versions named in the answer; the count covers the rest. */
export const MAX_REPORTED = 100;

/** An S3 answer that was not 2xx, with the code and message of its error document. */
export class S3CallError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

/** The bucket an empty works on: its name and the checked namespace parameter of `runS3`. */
export interface EmptyTarget {
  bucket: string;
  /** A tenant's namespace for a global administrator (already checked), else null. */
  tenantId: string | null;
}

async function call(
  ctx: Authed,
  t: EmptyTarget,
  method: string,
  opts: { key?: string; query?: [string, string][]; body?: string } = {},
): Promise<XmlNode | null> {
  const headers = new Headers();
  if (ctx.userAgent) headers.set("user-agent", ctx.userAgent);
  if (opts.body !== undefined) {
    headers.set("content-type", "application/xml");
    headers.set("content-md5", createHash("md5").update(opts.body).digest("base64"));
  }
  const key = opts.key === undefined
    ? ""
    : "/" + opts.key.split("/").map(encodeURIComponent).join("/");
  const res = await runS3(ctx, {
    method,
    path: `/${encodeURIComponent(t.bucket)}${key}`,
    query: opts.query ?? [],
    headers,
    body: opts.body === undefined ? null : new Blob([opts.body]).stream(),
    tenantId: t.tenantId,
  });
  const text = await res.text();
  if (!res.ok) {
    const doc = text.startsWith("<") ? parseXml(text) : null;
    const code = (doc && childText(doc, "Code")) || `HTTP${res.status}`;
    throw new S3CallError(res.status, code, (doc && childText(doc, "Message")) || code);
  }
  return text.startsWith("<") ? parseXml(text) : null;
}

/**
 * Checks that the bucket exists and the caller may read it, before any answer is streamed
 * (GetBucketVersioning rather than HEAD: a HEAD error has no body to name its code).
 */
export async function checkBucket(ctx: Authed, t: EmptyTarget): Promise<void> {
  await call(ctx, t, "GET", { query: [["versioning", ""]] });
}

const esc = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** A DeleteObjects body (quiet: only failures come back) naming each version. */
export function deleteVersionsXml(items: { key: string; versionId: string }[]): string {
  return `<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet>${
    items.map((i) =>
      `<Object><Key>${esc(i.key)}</Key><VersionId>${esc(i.versionId)}</VersionId></Object>`
    ).join("")
  }</Delete>`;
}

/**
 * Empties the bucket (and with `deleteBucket`, deletes it), yielding the progress after each
 * batch; the last value has `done`. S3 errors that stop the run end up in the last value's
 * `error` (the answer has started streaming by then).
 */
export async function* emptyBucket(
  ctx: Authed,
  t: EmptyTarget,
  opts: { deleteBucket: boolean },
): AsyncGenerator<EmptyProgress> {
  const p: EmptyProgress = {
    versions: 0,
    deleteMarkers: 0,
    uploadsAborted: 0,
    refusedCount: 0,
    refused: [],
  };
  try {
    let keyMarker = "";
    let versionIdMarker = "";
    for (;;) {
      const q: [string, string][] = [["versions", ""], ["max-keys", String(EMPTY_BATCH)]];
      if (keyMarker) q.push(["key-marker", keyMarker]);
      if (versionIdMarker) q.push(["version-id-marker", versionIdMarker]);
      const page = (await call(ctx, t, "GET", { query: q }))!;
      const items = page.children
        .filter((c) => c.name === "Version" || c.name === "DeleteMarker")
        .map((c) => ({
          key: childText(c, "Key") ?? "",
          versionId: childText(c, "VersionId") ?? "null",
          marker: c.name === "DeleteMarker",
        }));
      if (items.length > 0) {
        const res = (await call(ctx, t, "POST", {
          query: [["delete", ""]],
          body: deleteVersionsXml(items),
        }))!;
        const failed = new Set<string>();
        for (const e of children(res, "Error")) {
          const r: RefusedVersion = {
            key: childText(e, "Key") ?? "",
            versionId: childText(e, "VersionId") ?? "null",
            code: childText(e, "Code") ?? "",
            message: childText(e, "Message") ?? "",
          };
          failed.add(`${r.versionId}\0${r.key}`);
          p.refusedCount++;
          if (p.refused.length < MAX_REPORTED) p.refused.push(r);
        }
        for (const i of items) {
          if (failed.has(`${i.versionId}\0${i.key}`)) continue;
          if (i.marker) p.deleteMarkers++;
          else p.versions++;
        }
        yield { ...p, refused: [...p.refused] };
      }
      if (childText(page, "IsTruncated") !== "true") break;
      keyMarker = childText(page, "NextKeyMarker") ?? "";
      versionIdMarker = childText(page, "NextVersionIdMarker") ?? "";
      // A truncated page without a marker would list the same page again.
      if (!keyMarker) break;
    }
    yield* abortUploads(ctx, t, p);
    if (opts.deleteBucket) {
      if (p.refusedCount > 0) {
        p.error = {
          code: "BucketNotEmpty",
          message: `${p.refusedCount} version(s) could not be deleted, so the bucket stays.`,
        };
        p.bucketDeleted = false;
      } else {
        await call(ctx, t, "DELETE");
        p.bucketDeleted = true;
      }
    }
  } catch (e) {
    if (!(e instanceof S3CallError)) throw e;
    p.error = { code: e.code, message: e.message };
    if (opts.deleteBucket) p.bucketDeleted = false;
  }
  yield { ...p, refused: [...p.refused], done: true };
}

async function* abortUploads(
  ctx: Authed,
  t: EmptyTarget,
  p: EmptyProgress,
): AsyncGenerator<EmptyProgress> {
  let keyMarker = "";
  let uploadIdMarker = "";
  for (;;) {
    const q: [string, string][] = [["uploads", ""], ["max-uploads", String(EMPTY_BATCH)]];
    if (keyMarker) q.push(["key-marker", keyMarker]);
    if (uploadIdMarker) q.push(["upload-id-marker", uploadIdMarker]);
    const page = (await call(ctx, t, "GET", { query: q }))!;
    const uploads = children(page, "Upload");
    for (const u of uploads) {
      const key = childText(u, "Key") ?? "";
      const uploadId = childText(u, "UploadId") ?? "";
      try {
        await call(ctx, t, "DELETE", { key, query: [["uploadId", uploadId]] });
        p.uploadsAborted++;
      } catch (e) {
        // Finished or aborted meanwhile: nothing left to do for it.
        if (!(e instanceof S3CallError) || e.code !== "NoSuchUpload") throw e;
      }
    }
    if (uploads.length > 0) yield { ...p, refused: [...p.refused] };
    if (childText(page, "IsTruncated") !== "true") return;
    keyMarker = childText(page, "NextKeyMarker") ?? "";
    uploadIdMarker = childText(page, "NextUploadIdMarker") ?? "";
    if (!keyMarker && !child(page, "NextUploadIdMarker")) return;
  }
}

/** The progress as NDJSON, one line per value; cancelling the answer stops the run. */
function ndjson(
  run: AsyncGenerator<EmptyProgress>,
  log: Logger,
  onEnd: (last: EmptyProgress) => void,
) {
  const enc = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      let step: IteratorResult<EmptyProgress>;
      try {
        step = await run.next();
      } catch (e) {
        // The answer has started: an unexpected failure ends it with a last line, not a cut.
        log.error("bucket empty failed", { error: String(e) });
        const last: EmptyProgress = {
          versions: 0,
          deleteMarkers: 0,
          uploadsAborted: 0,
          refusedCount: 0,
          refused: [],
          done: true,
          error: { code: "InternalError", message: "The run stopped on an internal error." },
        };
        ctrl.enqueue(enc.encode(JSON.stringify(last) + "\n"));
        onEnd(last);
        return ctrl.close();
      }
      if (step.done) return ctrl.close();
      ctrl.enqueue(enc.encode(JSON.stringify(step.value) + "\n"));
      if (step.value.done) onEnd(step.value);
    },
    async cancel() {
      await run.return(undefined);
    },
  });
}

function emptyRoute(action: "bucket.empty" | "bucket.force-delete"): Route {
  const path = action === "bucket.empty"
    ? "/buckets/:bucket/empty"
    : "/buckets/:bucket/force-delete";
  return route("POST", path, async (ctx) => {
    const bucket = ctx.params.bucket;
    const body = await readJson(ctx.req);
    // The typed confirmation travels with the request, so no stray call empties a bucket.
    if (body.confirm !== bucket) {
      throw new IamError("InvalidRequest", "confirm must be the bucket's name");
    }
    const ns = scopeTenant(ctx, ctx.url.searchParams.get("tenantId") ?? undefined) ?? "";
    const t: EmptyTarget = { bucket, tenantId: nsParam(ctx, ns) };
    try {
      await checkBucket(ctx, t);
    } catch (e) {
      if (!(e instanceof S3CallError)) throw e;
      throw e.code === "NoSuchBucket"
        ? new IamError("NotFound", e.message, { s3Code: e.code })
        : e.code === "AccessDenied"
        ? new IamError("Forbidden", e.message, { s3Code: e.code })
        : new IamError("InvalidRequest", e.message, { s3Code: e.code });
    }
    const run = emptyBucket(ctx, t, { deleteBucket: action === "bucket.force-delete" });
    const stream = ndjson(run, ctx.deps.log, (last) => {
      const { refused: _, done: __, ...summary } = last;
      audit(ctx, {
        action,
        resource: `bucket/${bucket}`,
        tenantId: ns || null,
        result: last.error ? "failure" : "success",
        detail: JSON.stringify(summary).slice(0, 500),
      });
    });
    return new Response(stream, {
      headers: { "content-type": "application/x-ndjson", "cache-control": "no-store" },
    });
  }, { audit: action });
}

/**
 * `POST /buckets/:bucket/empty` and `POST /buckets/:bucket/force-delete`, body
 * `{ confirm: "<bucket>" }`: the answer streams NDJSON progress lines (docs/api.md).
 */
export const bucketEmptyRoutes: Route[] = [
  emptyRoute("bucket.empty"),
  emptyRoute("bucket.force-delete"),
];
