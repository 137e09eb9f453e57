/**
 * What the Backend conformance cases share: the backend under test and its clock, and helpers
 * that go through the `Backend` interface only (no files, no KV keys), so the same cases run
 * against the local backend and the edge one (metadata in Deno KV, bytes in an upstream bucket).
 */
import { createHash } from "node:crypto";
import { assert, assertEquals } from "../../../tests/_helpers/assert.ts";
import { listInput } from "../../../tests/_helpers/storage.ts";
import { isS3Error, type S3Error, type S3ErrorCode } from "../../s3/errors.ts";
import type { Backend } from "../backend.ts";
import type {
  BucketRecord,
  ByteRange,
  ListObjectsInput,
  ListObjectsPage,
  ListVersionsInput,
  ObjectRecord,
  PutObjectInput,
  VersionEntry,
  VersioningState,
} from "../types.ts";

/** A clock the cases move: `advance` may step it back (negative) to test ordering. */
export interface ConformanceClock {
  now(): number;
  advance(ms: number): void;
}

/** One opened backend, empty, for one case. */
export interface OpenedBackend {
  backend: Backend;
  close(): Promise<void>;
  /** The clock the backend reads; cases that need to move time skip those checks without it. */
  clock?: ConformanceClock;
}

/** What a case gets. */
export interface Target {
  be: Backend;
  clock?: ConformanceClock;
}

export interface ConformanceCase {
  /** "area: behaviour", unique: the test is named after it and `ignore` refers to it. */
  name: string;
  run(t: Target): Promise<void>;
}

export const OWNER = "owner-1";

/** A part as UploadPart returns it (the types of the `Backend` signatures, wherever they live). */
export type PartRecord = Awaited<ReturnType<Backend["uploadPart"]>>;
/** A part as CompleteMultipartUpload lists it. */
export type CompletePart = Parameters<Backend["completeMultipartUpload"]>[1]["parts"][number];

export interface BucketOptions {
  ns?: string;
  ownerId?: string;
  region?: string;
  versioning?: VersioningState;
  objectLock?: boolean;
}

/** Creates a bucket and, when asked, sets its versioning state. */
export async function bucket(
  be: Backend,
  name: string,
  opts: BucketOptions = {},
): Promise<BucketRecord> {
  const b = await be.createBucket({
    ns: opts.ns ?? "",
    name,
    ownerId: opts.ownerId ?? OWNER,
    region: opts.region ?? "us-east-1",
    objectLock: opts.objectLock,
  });
  return opts.versioning ? await setVersioning(be, b, opts.versioning) : b;
}

export function setVersioning(
  be: Backend,
  b: BucketRecord,
  state: VersioningState,
): Promise<BucketRecord> {
  return be.updateBucket(b, (x) => ({ ...x, versioning: state }));
}

export const utf8 = (s: string) => new TextEncoder().encode(s);

/** `n` random bytes (getRandomValues fills at most 64 KiB per call). */
export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, i + 65536));
  return out;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export const md5Hex = (b: Uint8Array) => createHash("md5").update(b).digest("hex");
export const md5Base64 = (b: Uint8Array) => createHash("md5").update(b).digest("base64");
export const sha256Base64 = (b: Uint8Array) => createHash("sha256").update(b).digest("base64");

/** The quoted ETag S3 gives a single PUT: the hex MD5 of the bytes. */
export const putEtag = (b: Uint8Array) => `"${md5Hex(b)}"`;

/** S3's multipart ETag, computed here from the part bytes: MD5 of the binary part MD5s, `-N`. */
export function multipartEtag(parts: Uint8Array[]): string {
  const h = createHash("md5");
  for (const p of parts) h.update(createHash("md5").update(p).digest());
  return `"${h.digest("hex")}-${parts.length}"`;
}

/** A request body of `b`, in chunks of up to 16 KiB as a socket would deliver it. */
export function bodyOf(b: Uint8Array): ReadableStream<Uint8Array> {
  let off = 0;
  return new ReadableStream({
    pull(c) {
      if (off >= b.length) return c.close();
      c.enqueue(b.slice(off, off += 16384));
    },
  });
}

/** PutObject of `data` (a string is UTF-8), declared length exact, `extra` on top. */
export function put(
  be: Backend,
  b: BucketRecord,
  key: string,
  data: Uint8Array | string,
  extra: Partial<PutObjectInput> = {},
): Promise<ObjectRecord> {
  const bytes = typeof data === "string" ? utf8(data) : data;
  return be.putObject(b, {
    key,
    body: bodyOf(bytes),
    contentLength: bytes.length,
    content: {},
    meta: {},
    ownerId: OWNER,
    ...extra,
  });
}

/** The bytes of a record (or of a range of it). */
export async function read(be: Backend, rec: ObjectRecord, range?: ByteRange) {
  return new Uint8Array(await new Response(await be.openObject(rec, range)).arrayBuffer());
}

/** The latest (or the given version's) bytes of a key, as text. */
export async function text(be: Backend, b: BucketRecord, key: string, versionId?: string) {
  return new TextDecoder().decode(await read(be, await be.getObjectRecord(b, key, versionId)));
}

/**
 * Runs `fn` and expects an S3Error with `code`; returns it (for its headers). Anything else, a
 * success included, fails the case (`what` says which step).
 */
export async function expectCode(
  fn: () => Promise<unknown>,
  code: S3ErrorCode,
  what = "",
): Promise<S3Error> {
  const where = what ? `${what}: ` : "";
  let result: unknown;
  try {
    result = await fn();
  } catch (e) {
    if (!isS3Error(e)) throw e;
    assert(e.code === code, `${where}expected S3 error ${code}, got ${e.code}`);
    return e;
  }
  throw new Error(`${where}expected S3 error ${code}, got success: ${show(result)}`);
}

function show(v: unknown): string {
  try {
    return JSON.stringify(v)?.slice(0, 200) ?? String(v);
  } catch {
    return String(v);
  }
}

/** The code of a settled call, "ok" when it succeeded (for races whose winner is unknown). */
export async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (e) {
    if (isS3Error(e)) return e.code;
    throw e;
  }
}

export { listInput };

export const versionsInput = (i: Partial<ListVersionsInput> = {}): ListVersionsInput => ({
  prefix: "",
  delimiter: "",
  keyMarker: "",
  versionIdMarker: "",
  maxKeys: 1000,
  ...i,
});

/** Keys of a one-page listing (asserts it is not truncated). */
export async function listedKeys(
  be: Backend,
  b: BucketRecord,
  i: Partial<ListObjectsInput> = {},
): Promise<string[]> {
  const page: ListObjectsPage = await be.listObjects(b, listInput(i));
  assertEquals(page.truncated, false, "listing truncated");
  return page.objects.map((o) => o.key);
}

/** Every version of a bucket (one page; asserts it is not truncated). */
export async function allVersions(
  be: Backend,
  b: BucketRecord,
  i: Partial<ListVersionsInput> = {},
): Promise<VersionEntry[]> {
  const page = await be.listObjectVersions(b, versionsInput(i));
  assertEquals(page.truncated, false, "version listing truncated");
  return page.versions;
}

/** [key, versionId, isLatest, deleteMarker] of each listed version, for compact assertions. */
export const versionRows = (vs: VersionEntry[]) =>
  vs.map((v) => [v.rec.key, v.rec.versionId, v.isLatest, !!v.rec.deleteMarker]);

/** Compares strings by their UTF-8 bytes (computed here, not taken from the code under test). */
export function byteOrder(a: string, b: string): number {
  const x = utf8(a);
  const y = utf8(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i] - y[i];
  }
  return x.length - y.length;
}

/** Counters as `bucketStats` reports them. */
export async function stats(be: Backend, b: BucketRecord) {
  return await be.bucketStats(b.id);
}
