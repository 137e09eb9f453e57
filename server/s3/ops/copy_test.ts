import assert from "node:assert/strict";
import { checkCopySourceConditions, copyObject, MAX_COPY_SOURCE, parseCopySource } from "./copy.ts";
import { S3Error } from "../errors.ts";
import type { OpContext, S3Deps } from "../context.ts";
import type { Backend } from "../../storage/mod.ts";
import type { BucketRecord, ObjectRecord, PutObjectInput } from "../../storage/types.ts";
import type { StoredEncryption } from "../../crypto/types.ts";
import { type BucketEncryption, ENCRYPTION_CONFIG } from "../bucket_encryption.ts";

const isCode = (code: string) => (e: unknown) => e instanceof S3Error && e.code === code;

Deno.test("parseCopySource: encoded, with or without slash, with versionId", () => {
  assert.deepEqual(parseCopySource("bkt/a%20b%2Bc/d"), {
    bucket: "bkt",
    key: "a b+c/d",
    versionId: null,
  });
  assert.deepEqual(parseCopySource("/bkt/k%3Fq?versionId=v1"), {
    bucket: "bkt",
    key: "k?q",
    versionId: "v1",
  });
  assert.deepEqual(parseCopySource("/bkt/%E2%82%AC//x"), {
    bucket: "bkt",
    key: "€//x",
    versionId: null,
  });
  for (const bad of ["", "bkt", "/bkt", "/bkt/", "/", "//key", "bkt/%zz", "bkt/k?versionId="]) {
    assert.throws(() => parseCopySource(bad), isCode("InvalidArgument"), bad);
  }
});

const REC: ObjectRecord = {
  v: 1,
  key: "k",
  versionId: "null",
  blob: "blob1",
  size: 3,
  etag: '"abc"',
  lastModified: Date.parse("2025-01-01T00:00:00.500Z"),
  content: {},
  meta: {},
  storageClass: "STANDARD",
  ownerId: "u1",
};

Deno.test("checkCopySourceConditions: AWS precedence, 412 on failure", () => {
  const p = "x-amz-copy-source-";
  const lm = "Wed, 01 Jan 2025 00:00:00 GMT"; // the same second as lastModified
  const before = "Tue, 31 Dec 2024 00:00:00 GMT";
  const ok: Record<string, string>[] = [
    {},
    { [`${p}if-match`]: '"abc"' },
    { [`${p}if-match`]: '"x", "abc"' },
    { [`${p}if-none-match`]: '"x"' },
    { [`${p}if-unmodified-since`]: lm },
    { [`${p}if-modified-since`]: before },
    { [`${p}if-match`]: '"abc"', [`${p}if-unmodified-since`]: before },
    { [`${p}if-modified-since`]: "garbage" },
  ];
  const failing: Record<string, string>[] = [
    { [`${p}if-match`]: '"x"' },
    { [`${p}if-none-match`]: '"abc"' },
    { [`${p}if-none-match`]: "*" },
    { [`${p}if-unmodified-since`]: before },
    { [`${p}if-modified-since`]: lm },
    { [`${p}if-none-match`]: '"abc"', [`${p}if-modified-since`]: before },
  ];
  for (const h of ok) checkCopySourceConditions(new Headers(h), REC);
  for (const h of failing) {
    assert.throws(
      () => checkCopySourceConditions(new Headers(h), REC),
      isCode("PreconditionFailed"),
      JSON.stringify(h),
    );
  }
});

function bucket(name: string): BucketRecord {
  return {
    v: 1,
    id: `id-${name}`,
    name,
    ns: "",
    created: 0,
    ownerId: "u1",
    region: "us-east-1",
    versioning: "Unversioned",
    objectLock: false,
  };
}

/** A copy request against fake storage; records authorization calls and writes. */
function fakeCopy(
  opts: {
    source: string;
    size?: number;
    deny?: string;
    enc?: StoredEncryption;
    bucketDefault?: BucketEncryption;
    headers?: Record<string, string>;
  },
) {
  const authorized: { op: string; bucket: string | null }[] = [];
  const puts: PutObjectInput[] = [];
  const storage = {
    getBucket: (_ns: string, name: string) => Promise.resolve(bucket(name)),
    getObjectRecord: () => Promise.resolve({ ...REC, size: opts.size ?? REC.size }),
    readObject: <T>(
      _b: BucketRecord,
      _k: string,
      _v: string | null,
      use: (rec: ObjectRecord, open: () => Promise<ReadableStream<Uint8Array>>) => Promise<T>,
    ) =>
      use(
        { ...REC, size: opts.size ?? REC.size, ...(opts.enc ? { enc: opts.enc } : {}) },
        () => Promise.resolve(new ReadableStream({ start: (c) => c.close() })),
      ),
    getBucketConfig: (_id: string, kind: string) =>
      Promise.resolve(kind === ENCRYPTION_CONFIG ? opts.bucketDefault ?? null : null),
    putObject: (_b: BucketRecord, input: PutObjectInput) => {
      puts.push(input);
      return Promise.resolve({ ...REC, key: input.key });
    },
  } as unknown as Backend;
  const deps = {
    storage,
    authorizer: {
      authorize(ctx: OpContext, b: BucketRecord | null) {
        authorized.push({ op: ctx.ep.op, bucket: b?.name ?? null });
        if (b?.name === opts.deny) return Promise.reject(new S3Error("AccessDenied"));
        return Promise.resolve();
      },
    },
    clock: { now: () => Date.now() },
    log: { debug() {}, info() {}, warn() {}, error() {} },
    grantees: { userById: (id: string) => ({ id, displayName: id }), usersByEmail: () => [] },
    region: "us-east-1",
    domain: null,
  } as unknown as S3Deps;
  const req = new Request("http://h/dst/out", {
    method: "PUT",
    headers: { "x-amz-copy-source": opts.source, ...opts.headers },
  });
  const ctx = {
    req,
    client: { ip: "127.0.0.1", secure: true },
    ep: {
      op: "CopyObject",
      bucket: "dst",
      key: "out",
      query: new URLSearchParams(),
      style: "path",
    },
    principal: { kind: "root", userId: "u1", tenantId: null, isAdmin: true, displayName: "root" },
    ns: "",
    deps,
    requestId: "r",
    bucket: () => Promise.resolve(bucket("dst")),
    bucketNamed: (name: string) => Promise.resolve(bucket(name)),
  } as unknown as OpContext;
  return { run: () => copyObject(ctx), authorized, puts };
}

Deno.test("copyObject authorizes reading the source bucket as GetObject", async () => {
  const ok = fakeCopy({ source: "/src/k" });
  const res = await ok.run();
  assert.ok(typeof res.xml === "string" && res.xml.includes("<CopyObjectResult"));
  assert.deepEqual(ok.authorized, [{ op: "GetObject", bucket: "src" }]);
  assert.equal(ok.puts.length, 1);

  const denied = fakeCopy({ source: "/secret/k", deny: "secret" });
  await assert.rejects(denied.run(), isCode("AccessDenied"));
  assert.equal(denied.puts.length, 0, "nothing is written when the source is not readable");
});

Deno.test("copyObject refuses sources larger than 5 GiB", async () => {
  const big = fakeCopy({ source: "/src/k", size: MAX_COPY_SOURCE + 1 });
  await assert.rejects(big.run(), isCode("InvalidRequest"));
  assert.equal(big.puts.length, 0);
  const limit = fakeCopy({ source: "/src/k", size: MAX_COPY_SOURCE });
  await limit.run();
  assert.equal(limit.puts.length, 1);
});

Deno.test("parseCopySource: a bad source bucket or a key over 1024 bytes, before any lookup", () => {
  assert.throws(() => parseCopySource(`/${"b".repeat(2100)}/k`), isCode("InvalidBucketName"));
  assert.throws(() => parseCopySource("/Bad_Bucket/k"), isCode("InvalidBucketName"));
  assert.throws(() => parseCopySource(`/bkt/${"k".repeat(1025)}`), isCode("KeyTooLongError"));
  assert.throws(() => parseCopySource(`/bkt/${"k".repeat(2100)}`), isCode("KeyTooLongError"));
  assert.equal(parseCopySource(`/bkt/${"k".repeat(1024)}`).key.length, 1024);
});

Deno.test("copyObject: the destination's encryption is the request's or its bucket's default", async () => {
  const byDefault = fakeCopy({
    source: "/src/k",
    bucketDefault: { v: 1, algorithm: "aws:kms", kmsKeyId: "k1", bucketKey: false },
  });
  await byDefault.run();
  assert.deepEqual(byDefault.puts[0].sse, { mode: "aws:kms", keyId: "k1" });
  const asked = fakeCopy({
    source: "/src/k",
    headers: { "x-amz-server-side-encryption": "AES256" },
    bucketDefault: { v: 1, algorithm: "aws:kms", bucketKey: false },
  });
  await asked.run();
  assert.deepEqual(asked.puts[0].sse, { mode: "AES256" });
  // The source's encryption is not copied.
  const fromEncrypted = fakeCopy({
    source: "/src/k",
    enc: { mode: "AES256", fmt: "seg1", seg: 65536, dk: new Uint8Array(60), kek: "m:1" },
  });
  await fromEncrypted.run();
  assert.equal(fromEncrypted.puts[0].sse, undefined);
});

Deno.test("copyObject: an SSE-C source needs its key before anything is written", async () => {
  const enc: StoredEncryption = {
    mode: "SSE-C",
    fmt: "seg1",
    seg: 65536,
    dk: new Uint8Array(60),
    kek: "c",
    keyMd5: "stored-md5",
  };
  const noKey = fakeCopy({ source: "/src/k", enc });
  await assert.rejects(noKey.run(), isCode("InvalidRequest"));
  assert.equal(noKey.puts.length, 0);
  const key = btoa(String.fromCharCode(...new Uint8Array(32)));
  const wrongKey = fakeCopy({
    source: "/src/k",
    enc,
    headers: {
      "x-amz-copy-source-server-side-encryption-customer-algorithm": "AES256",
      "x-amz-copy-source-server-side-encryption-customer-key": key,
    },
  });
  await assert.rejects(wrongKey.run(), isCode("AccessDenied"));
  assert.equal(wrongKey.puts.length, 0);
  // A bad destination key is refused before the source is read.
  const badDest = fakeCopy({
    source: "/src/k",
    headers: {
      "x-amz-server-side-encryption-customer-algorithm": "AES256",
      "x-amz-server-side-encryption-customer-key": key,
      "x-amz-server-side-encryption-customer-key-md5": "AAAAAAAAAAAAAAAAAAAAAA==",
    },
  });
  await assert.rejects(badDest.run(), isCode("InvalidArgument"));
  assert.equal(badDest.puts.length, 0);
});
