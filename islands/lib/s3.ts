/**
 * The object browser's S3 calls, through the console API's S3 passthrough
 * (`/api/v1/s3/<bucket>/<key>`): the request runs as the signed-in user with S3's own
 * authorization, quotas and audit. Answers are S3 XML, read with DOMParser.
 */
import { ApiError } from "./api.ts";

/**
 * A bucket by name in the caller's namespace, or in a tenant's namespace (global administrators
 * only; the passthrough's `tenantId` parameter).
 */
export type BucketRef = string | { name: string; tenantId: string };

export const bucketName = (b: BucketRef): string => typeof b === "string" ? b : b.name;

/** Path-style URL; each key segment is percent-encoded, `/` kept. */
export function s3Url(bucket: BucketRef, key = "", query: Record<string, string> = {}): string {
  const k = key.split("/").map(encodeURIComponent).join("/");
  const params = new URLSearchParams(query);
  if (typeof bucket !== "string") params.set("tenantId", bucket.tenantId);
  const q = params.toString();
  return `/api/v1/s3/${encodeURIComponent(bucketName(bucket))}${key ? "/" + k : ""}${
    q ? "?" + q : ""
  }`
    .replace(/\?$/, "");
}

function xmlDoc(text: string): Document {
  return new DOMParser().parseFromString(text, "application/xml");
}

function textOf(el: Element | Document, tag: string): string {
  return el.getElementsByTagName(tag)[0]?.textContent ?? "";
}

/** S3 error document (or a JSON API error) to an ApiError with the S3 code. */
export async function s3Error(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => "");
  if (text.startsWith("<")) {
    const d = xmlDoc(text);
    return new ApiError(res.status, textOf(d, "Code"), textOf(d, "Message") || textOf(d, "Code"));
  }
  try {
    const j = JSON.parse(text);
    return new ApiError(res.status, j.error?.code ?? "", j.error?.message ?? text);
  } catch {
    return new ApiError(res.status, `HTTP${res.status}`, `Request failed (${res.status})`);
  }
}

export async function s3(
  method: string,
  bucket: BucketRef,
  key = "",
  query: Record<string, string> = {},
  init: RequestInit = {},
): Promise<Response> {
  const res = await fetch(s3Url(bucket, key, query), {
    method,
    credentials: "same-origin",
    ...init,
  });
  if (res.status === 401) {
    // The console session ended (S3 itself never answers 401 here): sign in again.
    location.href = `/login?next=${encodeURIComponent(location.pathname + location.search)}`;
  }
  if (!res.ok) throw await s3Error(res);
  return res;
}

export interface ObjectEntry {
  key: string;
  size: number;
  lastModified: string;
  etag: string;
}

export interface ListPage {
  objects: ObjectEntry[];
  prefixes: string[];
  nextToken: string | null;
}

export async function listPage(
  bucket: BucketRef,
  opts: { prefix: string; token?: string | null; max?: number; delimiter?: string },
): Promise<ListPage> {
  const q: Record<string, string> = {
    "list-type": "2",
    prefix: opts.prefix,
    delimiter: opts.delimiter ?? "/",
    "max-keys": String(opts.max ?? 100),
  };
  if (opts.token) q["continuation-token"] = opts.token;
  const d = xmlDoc(await (await s3("GET", bucket, "", q)).text());
  const objects = Array.from(d.getElementsByTagName("Contents")).map((c) => ({
    key: textOf(c, "Key"),
    size: Number(textOf(c, "Size")),
    lastModified: textOf(c, "LastModified"),
    etag: textOf(c, "ETag"),
  }));
  const prefixes = Array.from(d.getElementsByTagName("CommonPrefixes")).map((c) =>
    textOf(c, "Prefix")
  );
  const truncated = textOf(d, "IsTruncated") === "true";
  return { objects, prefixes, nextToken: truncated ? textOf(d, "NextContinuationToken") : null };
}

export interface VersionEntry {
  versionId: string;
  isLatest: boolean;
  deleteMarker: boolean;
  size: number;
  lastModified: string;
}

/** A version or delete marker of a ListObjectVersions page, with its key. */
export interface KeyVersion extends VersionEntry {
  key: string;
}

function versionEntries(d: Document): KeyVersion[] {
  const out: KeyVersion[] = [];
  for (const el of Array.from(d.documentElement.children)) {
    if (el.localName !== "Version" && el.localName !== "DeleteMarker") continue;
    out.push({
      key: textOf(el, "Key"),
      versionId: textOf(el, "VersionId"),
      isLatest: textOf(el, "IsLatest") === "true",
      deleteMarker: el.localName === "DeleteMarker",
      size: Number(textOf(el, "Size") || 0),
      lastModified: textOf(el, "LastModified"),
    });
  }
  return out;
}

export async function listVersions(bucket: BucketRef, key: string): Promise<VersionEntry[]> {
  const d = xmlDoc(await (await s3("GET", bucket, "", { versions: "", prefix: key })).text());
  return versionEntries(d).filter((v) => v.key === key).map(({ key: _, ...v }) => v);
}

/** Where the next ListObjectVersions page starts (null: this was the last page). */
export type VersionMarker = { keyMarker: string; versionIdMarker: string } | null;

/** One page of ListObjectVersions under `prefix`, folders folded at `/`. */
export async function listVersionPage(
  bucket: BucketRef,
  opts: { prefix: string; marker?: VersionMarker; max?: number },
): Promise<{ versions: KeyVersion[]; prefixes: string[]; next: VersionMarker }> {
  const q: Record<string, string> = {
    versions: "",
    prefix: opts.prefix,
    delimiter: "/",
    "max-keys": String(opts.max ?? 100),
  };
  if (opts.marker) {
    q["key-marker"] = opts.marker.keyMarker;
    if (opts.marker.versionIdMarker) q["version-id-marker"] = opts.marker.versionIdMarker;
  }
  const d = xmlDoc(await (await s3("GET", bucket, "", q)).text());
  const prefixes = Array.from(d.getElementsByTagName("CommonPrefixes")).map((c) =>
    textOf(c, "Prefix")
  );
  const truncated = textOf(d, "IsTruncated") === "true";
  return {
    versions: versionEntries(d),
    prefixes,
    next: truncated
      ? { keyMarker: textOf(d, "NextKeyMarker"), versionIdMarker: textOf(d, "NextVersionIdMarker") }
      : null,
  };
}

/** The `x-amz-copy-source` of one version of a key in this bucket. */
export function copySource(bucket: BucketRef, key: string, versionId: string): string {
  return `${encodeURIComponent(bucketName(bucket))}/${
    key.split("/").map(encodeURIComponent).join("/")
  }?versionId=${encodeURIComponent(versionId)}`;
}

/**
 * Makes an older version the current one again: a CopyObject of that version over the key, so
 * the history stays whole (the copy is a new version; nothing is deleted).
 */
export async function restoreVersion(
  bucket: BucketRef,
  key: string,
  versionId: string,
): Promise<void> {
  await s3("PUT", bucket, key, {}, {
    headers: { "x-amz-copy-source": copySource(bucket, key, versionId) },
  });
}

export async function getTags(bucket: BucketRef, key: string): Promise<Record<string, string>> {
  const d = xmlDoc(await (await s3("GET", bucket, key, { tagging: "" })).text());
  const out: Record<string, string> = {};
  for (const t of Array.from(d.getElementsByTagName("Tag"))) {
    out[textOf(t, "Key")] = textOf(t, "Value");
  }
  return out;
}

const esc = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export function taggingXml(tags: Record<string, string>): string {
  const items = Object.entries(tags).map(([k, v]) =>
    `<Tag><Key>${esc(k)}</Key><Value>${esc(v)}</Value></Tag>`
  ).join("");
  return `<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet>${items}</TagSet></Tagging>`;
}

export function deleteObjectsXml(keys: string[]): string {
  return `<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet>${
    keys.map((k) => `<Object><Key>${esc(k)}</Key></Object>`).join("")
  }</Delete>`;
}

/** Deletes keys with DeleteObjects, falling back to one DELETE each where it is not available. */
export async function deleteKeys(bucket: BucketRef, keys: string[]): Promise<string[]> {
  const failed: string[] = [];
  for (let i = 0; i < keys.length; i += 1000) {
    const batch = keys.slice(i, i + 1000);
    try {
      const body = deleteObjectsXml(batch);
      const md5 = await contentMd5(body);
      const res = await s3("POST", bucket, "", { delete: "" }, {
        body,
        headers: { "content-type": "application/xml", "content-md5": md5 },
      });
      const d = xmlDoc(await res.text());
      for (const e of Array.from(d.getElementsByTagName("Error"))) failed.push(textOf(e, "Key"));
    } catch (e) {
      if ((e as ApiError).code !== "NotImplemented") throw e;
      for (const k of batch) {
        await s3("DELETE", bucket, k).catch(() => failed.push(k));
      }
    }
  }
  return failed;
}

/** Parses "k=v" lines (or comma-separated pairs) into a tag map. */
export function parseTags(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(/[\n,]/)) {
    const t = part.trim();
    if (!t) continue;
    const i = t.indexOf("=");
    if (i <= 0) throw new Error(`Cannot parse tag "${t}": write key=value`);
    out[t.slice(0, i).trim()] = t.slice(i + 1).trim();
  }
  return out;
}

/**
 * A configuration document as a PUT body with its Content-MD5: S3 requires one on PutBucketCors
 * (and accepts it on every configuration PUT), so the editors always send it.
 */
export async function documentBody(
  body: string,
  contentType = "application/xml",
): Promise<RequestInit> {
  return { body, headers: { "content-type": contentType, "content-md5": await contentMd5(body) } };
}

/** Base64 MD5 — Web Crypto has no MD5, so a small implementation for DeleteObjects bodies. */
export function contentMd5(text: string): Promise<string> {
  const bytes = new TextEncoder().encode(text);
  return Promise.resolve(btoa(String.fromCharCode(...md5(bytes))));
}

function md5(data: Uint8Array): Uint8Array {
  const s = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
  const K = Array.from(
    { length: 64 },
    (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) >>> 0,
  );
  const len = data.length;
  const padded = new Uint8Array(((len + 8) >> 6) * 64 + 64);
  padded.set(data);
  padded[len] = 0x80;
  const dv = new DataView(padded.buffer);
  dv.setUint32(padded.length - 8, (len * 8) >>> 0, true);
  dv.setUint32(padded.length - 4, Math.floor(len / 2 ** 29), true);
  let a0 = 0x67452301, b0 = 0xefcdab89, c0 = 0x98badcfe, d0 = 0x10325476;
  for (let off = 0; off < padded.length; off += 64) {
    let a = a0, b = b0, c = c0, d = d0;
    for (let i = 0; i < 64; i++) {
      let f: number, g: number;
      if (i < 16) [f, g] = [(b & c) | (~b & d), i];
      else if (i < 32) [f, g] = [(d & b) | (~d & c), (5 * i + 1) % 16];
      else if (i < 48) [f, g] = [b ^ c ^ d, (3 * i + 5) % 16];
      else [f, g] = [c ^ (b | ~d), (7 * i) % 16];
      f = (f + a + K[i] + dv.getUint32(off + g * 4, true)) >>> 0;
      a = d;
      d = c;
      c = b;
      const r = s[(i >> 4) * 4 + (i % 4)];
      b = (b + ((f << r) | (f >>> (32 - r)))) >>> 0;
    }
    a0 = (a0 + a) >>> 0;
    b0 = (b0 + b) >>> 0;
    c0 = (c0 + c) >>> 0;
    d0 = (d0 + d) >>> 0;
  }
  const out = new Uint8Array(16);
  const ov = new DataView(out.buffer);
  [a0, b0, c0, d0].forEach((w, i) => ov.setUint32(i * 4, w, true));
  return out;
}
