/** ListObjects (v1) and ListObjectsV2. */
import { Buffer } from "node:buffer";
import { S3Error } from "../errors.ts";
import { buildXmlWithTail, escapeXml, type XmlObject } from "../xml.ts";
import { isoTime } from "../headers.ts";
import { uriEncode } from "../auth/sigv4.ts";
import { MAX_KEY_BYTES } from "../names.ts";
import type { OpContext, OpResult } from "../context.ts";
import type {
  BucketRecord,
  ListedObject,
  ListObjectsInput,
  ListObjectsPage,
} from "../../storage/types.ts";

const utf8 = new TextEncoder();

/**
 * A listing page's document. When the bucket's listing state is one seen before, the bytes kept
 * for this request then (list_documents.ts), without reading the page; else `write`'s document
 * of the page read now, kept when the page was read from one state and this request came for
 * that state before. `request` names everything besides the page that the document depends on.
 * Bytes, not the string: Deno copies a string of ~200 KB out more slowly than `new Response`
 * copies bytes.
 */
async function listDocument(
  ctx: OpContext,
  bucket: BucketRecord,
  request: unknown[],
  input: ListObjectsInput,
  write: (page: ListObjectsPage) => string,
): Promise<string | Uint8Array<ArrayBuffer>> {
  const storage = ctx.deps.storage;
  const docs = ctx.listDocuments;
  if (docs === undefined || docs.maxBytes === 0) {
    return write(await storage.listObjects(bucket, input));
  }
  const key = JSON.stringify(request);
  const stamp = storage.listingStamp(bucket);
  const kept = stamp === null ? null : docs.get(key, stamp);
  if (kept !== null) return kept;
  const page = await storage.listObjects(bucket, input);
  const doc = write(page);
  if (page.stamp === undefined || !docs.seen(key, page.stamp)) return doc;
  const bytes = utf8.encode(doc);
  docs.set(key, page.stamp, bytes);
  return bytes;
}

/** `max-keys` style parameter: default, capped at `cap`; garbage is `InvalidArgument`. */
export function parseMaxParam(q: URLSearchParams, name: string, def = 1000, cap = 1000): number {
  const v = q.get(name);
  if (v === null || v === "") return def;
  if (!/^\d+$/.test(v)) {
    throw new S3Error("InvalidArgument", {
      message: `Provided ${name} not an integer or within integer range`,
      fields: { ArgumentName: name, ArgumentValue: v },
    });
  }
  return Math.min(Number(v), cap);
}

/**
 * `max-keys` of the list operations: the page holds at most 1000 entries, but the document
 * echoes the value the client asked for (a 32-bit integer), as S3 does.
 */
export function listMaxKeys(q: URLSearchParams): { requested: number; page: number } {
  const requested = parseMaxParam(q, "max-keys", 1000, Number.MAX_SAFE_INTEGER);
  if (requested > 2 ** 31 - 1) {
    throw new S3Error("InvalidArgument", {
      message: "Provided max-keys not an integer or within integer range",
      fields: { ArgumentName: "max-keys", ArgumentValue: q.get("max-keys") ?? "" },
    });
  }
  return { requested, page: Math.min(requested, 1000) };
}

/** `encoding-type=url` support: returns the encoder for names in the response. */
export function encoderFor(q: URLSearchParams): { encode: (s: string) => string; type?: string } {
  const et = q.get("encoding-type");
  if (et === null) return { encode: (s) => s };
  if (et.toLowerCase() !== "url") {
    throw new S3Error("InvalidArgument", {
      message: "Invalid Encoding Method specified in Request",
      fields: { ArgumentName: "encoding-type", ArgumentValue: et },
    });
  }
  return { encode: (s) => uriEncode(s, true), type: "url" };
}

/** The parameters every listing shares (objects v1/v2, versions). */
export interface ListParams {
  prefix: string;
  delimiter: string;
  maxKeys: { requested: number; page: number };
  /** Encodes a name for the document (`encoding-type=url`), identity otherwise. */
  encode: (s: string) => string;
  encodingType?: string;
}

export function listParams(q: URLSearchParams): ListParams {
  const { encode, type } = encoderFor(q);
  return {
    prefix: q.get("prefix") ?? "",
    delimiter: q.get("delimiter") ?? "",
    maxKeys: listMaxKeys(q),
    encode,
    encodingType: type,
  };
}

/** Milliseconds in a day (UTC days have no leap seconds in ECMAScript time). */
const DAY_MS = 86_400_000;

const pad2 = (n: number) => n < 10 ? "0" + n : String(n);

/**
 * `isoTime` for the entries of one listing page. Formatting a Date per entry was a tenth of a
 * 1000-key LIST, and 10,000 buckets created on different seconds took ~20 ms: the date part is
 * formatted once per distinct day and the time of day is written from integer arithmetic. One
 * formatter per page.
 */
export class ListTimes {
  /** Day number since the epoch -> "YYYY-MM-DDT". */
  #days = new Map<number, string>();
  /** The second of the previous entry and its "YYYY-MM-DDThh:mm:ss." (pages often share one). */
  #second = NaN;
  #secondPrefix = "";

  format(ms: number): string {
    if (!Number.isInteger(ms) || ms < 0 || ms > 253_402_300_799_999) return isoTime(ms);
    const sec = Math.floor(ms / 1000);
    if (sec !== this.#second) {
      this.#secondPrefix = this.#prefixOf(sec);
      this.#second = sec;
    }
    const frac = ms - sec * 1000;
    return this.#secondPrefix + (frac < 10 ? "00" : frac < 100 ? "0" : "") + frac + "Z";
  }

  #prefixOf(sec: number): string {
    const day = Math.floor(sec / 86_400);
    let date = this.#days.get(day);
    if (date === undefined) {
      date = isoTime(day * DAY_MS).slice(0, 11);
      this.#days.set(day, date);
    }
    let rest = sec - day * 86_400;
    const h = Math.floor(rest / 3600);
    rest -= h * 3600;
    const m = Math.floor(rest / 60);
    return `${date}${pad2(h)}:${pad2(m)}:${pad2(rest - m * 60)}.`;
  }
}

/** An ETag in XML: quoted, so escaping always replaced its quotes through a callback. */
export function etagXml(etag: string): string {
  const inner = etag.length >= 2 && etag[0] === '"' && etag[etag.length - 1] === '"'
    ? etag.slice(1, -1)
    : null;
  if (inner !== null && escapeXml(inner) === inner) return `&quot;${inner}&quot;`;
  return escapeXml(etag);
}

/**
 * One `<Contents>` element, written directly: a page of 1000 of them was a quarter of a LIST's
 * CPU through the generic builder.
 */
export function contentsXml(
  o: ListedObject,
  encode: (s: string) => string,
  owner: boolean,
  times: ListTimes,
): string {
  let s = `<Contents><Key>${escapeXml(encode(o.key))}</Key><LastModified>${
    times.format(o.lastModified)
  }</LastModified><ETag>${etagXml(o.etag)}</ETag><Size>${o.size}</Size><StorageClass>${
    escapeXml(o.storageClass || "STANDARD")
  }</StorageClass>`;
  if (o.checksum) {
    s +=
      `<ChecksumAlgorithm>${o.checksum.algorithm}</ChecksumAlgorithm><ChecksumType>${o.checksum.type}</ChecksumType>`;
  }
  if (owner) {
    const id = escapeXml(o.ownerId);
    s += `<Owner><ID>${id}</ID><DisplayName>${id}</DisplayName></Owner>`;
  }
  return s + "</Contents>";
}

/** The entries of a page: objects, then common prefixes, as S3 orders them. */
function pageXml(
  page: { objects: ListedObject[]; commonPrefixes: string[] },
  encode: (s: string) => string,
  owner: boolean,
): string {
  let out = "";
  const times = new ListTimes();
  for (const o of page.objects) out += contentsXml(o, encode, owner, times);
  for (const p of page.commonPrefixes) {
    out += `<CommonPrefixes><Prefix>${escapeXml(encode(p))}</Prefix></CommonPrefixes>`;
  }
  return out;
}

export async function listObjectsV1(ctx: OpContext): Promise<OpResult> {
  const q = ctx.ep.query;
  const bucket = await ctx.bucket();
  const { prefix, delimiter, maxKeys, encode, encodingType: type } = listParams(q);
  const marker = q.get("marker") ?? "";
  const input = { prefix, delimiter, after: marker, maxKeys: maxKeys.page };
  const request = [
    "v1",
    bucket.id,
    bucket.name,
    prefix,
    delimiter,
    maxKeys.requested,
    type,
    marker,
  ];
  const xml = await listDocument(ctx, bucket, request, input, (page) => {
    const body: XmlObject = {
      Name: bucket.name,
      Prefix: encode(prefix),
      Marker: encode(marker),
      MaxKeys: maxKeys.requested,
    };
    if (delimiter) body.Delimiter = encode(delimiter);
    body.IsTruncated = page.truncated;
    if (page.truncated && delimiter && page.last !== null) body.NextMarker = encode(page.last);
    if (type) body.EncodingType = type;
    return buildXmlWithTail("ListBucketResult", body, pageXml(page, encode, true));
  });
  return { xml };
}

export function encodeToken(key: string): string {
  return Buffer.from(key, "utf8").toString("base64url");
}

/** AWS's answer to a continuation token it did not issue. */
export function badContinuationToken(): S3Error {
  return new S3Error("InvalidArgument", {
    message: "The continuation token provided is incorrect",
    fields: { ArgumentName: "continuation-token" },
  });
}

export function decodeToken(token: string): string {
  const bytes = /^[A-Za-z0-9_-]+$/.test(token) ? Buffer.from(token, "base64url") : null;
  // A page ends at a key or bucket name, never longer than 1024 bytes: a longer one was not
  // issued here, and as a listing's start it would reach a KV key past its size limit.
  if (bytes === null || bytes.length > MAX_KEY_BYTES) {
    throw badContinuationToken();
  }
  return bytes.toString("utf8");
}

export async function listObjectsV2(ctx: OpContext): Promise<OpResult> {
  const q = ctx.ep.query;
  const bucket = await ctx.bucket();
  const { prefix, delimiter, maxKeys, encode, encodingType: type } = listParams(q);
  const startAfter = q.get("start-after") ?? "";
  const token = q.get("continuation-token");
  const fetchOwner = q.get("fetch-owner") === "true";
  // An empty token continues nothing: the listing starts where it would without one.
  const after = token ? decodeToken(token) : startAfter;
  const input = { prefix, delimiter, after, maxKeys: maxKeys.page };
  const request = [
    "v2",
    bucket.id,
    bucket.name,
    prefix,
    delimiter,
    maxKeys.requested,
    type,
    startAfter,
    token,
    fetchOwner,
  ];
  const xml = await listDocument(ctx, bucket, request, input, (page) => {
    const body: XmlObject = { Name: bucket.name, Prefix: encode(prefix) };
    if (startAfter) body.StartAfter = encode(startAfter);
    if (token !== null) body.ContinuationToken = token;
    body.KeyCount = page.objects.length + page.commonPrefixes.length;
    body.MaxKeys = maxKeys.requested;
    if (delimiter) body.Delimiter = encode(delimiter);
    body.IsTruncated = page.truncated;
    if (page.truncated && page.last !== null) body.NextContinuationToken = encodeToken(page.last);
    if (type) body.EncodingType = type;
    return buildXmlWithTail("ListBucketResult", body, pageXml(page, encode, fetchOwner));
  });
  return { xml };
}
