/**
 * Conformance cases: encryption at rest (docs/decisions/0012). The backend must be opened with
 * `ObjectKeys` whose key service holds a key "default" in the global namespace. What is stored is
 * not visible through the interface; these cases check what a client sees: plaintext back,
 * plaintext sizes and digests, the SSE-C key demanded, the ETags of each mode.
 */
import { assert, assertEquals } from "../../../tests/_helpers/assert.ts";
import type { CustomerKey, SseSpec } from "../../crypto/types.ts";
import type { Backend } from "../backend.ts";
import type { BucketRecord, ByteRange, ObjectRecord } from "../types.ts";
import {
  bodyOf,
  bucket,
  concat,
  type ConformanceCase,
  expectCode,
  md5Base64,
  multipartEtag,
  OWNER,
  put,
  putEtag,
  randomBytes,
} from "./harness.ts";

const SEG = 64 * 1024;
/** Around the inline limit and the segment size. */
const SIZES = [0, 1, 1000, 16 * 1024, 16 * 1024 + 1, SEG - 1, SEG, SEG + 1, 3 * SEG + 7];

const customer = (seed: number): CustomerKey & { mode: "SSE-C" } => {
  const key = new Uint8Array(32).map((_, i) => (i * 7 + seed) & 0xff);
  return { mode: "SSE-C", key, keyMd5: md5Base64(key) };
};

async function readBytes(s: ReadableStream<Uint8Array> | null): Promise<Uint8Array> {
  return s ? new Uint8Array(await new Response(s).arrayBuffer()) : new Uint8Array(0);
}

/** The bytes of a key through GetObject, with a customer key and a range when given. */
async function get(
  be: Backend,
  b: BucketRecord,
  key: string,
  opts: { customer?: CustomerKey; range?: ByteRange | false } = {},
): Promise<{ rec: ObjectRecord; bytes: Uint8Array }> {
  const r = await be.getObject(b, key, {
    customer: opts.customer,
    range: opts.range === undefined ? undefined : () => opts.range as ByteRange | false,
  });
  return { rec: r.rec, bytes: await readBytes(r.body) };
}

/** Ranges of every shape over an object of `size` bytes: inside, across and at segments. */
function rangesOf(size: number): ByteRange[] {
  if (size === 0) return [];
  const out: ByteRange[] = [{ start: 0, end: 0 }, { start: size - 1, end: size - 1 }];
  for (const [a, b] of [[0, SEG - 1], [SEG - 1, SEG], [SEG, 2 * SEG + 5], [5, size - 2]]) {
    if (a <= b && b < size) out.push({ start: a, end: b });
  }
  out.push({ start: Math.floor(size / 3), end: Math.floor((2 * size) / 3) });
  return out;
}

async function checkRoundTrip(
  be: Backend,
  b: BucketRecord,
  key: string,
  data: Uint8Array,
  c?: CustomerKey,
) {
  assertEquals((await get(be, b, key, { customer: c })).bytes, data, `${key} whole`);
  for (const r of rangesOf(data.length)) {
    const got = (await get(be, b, key, { customer: c, range: r })).bytes;
    assertEquals(got, data.subarray(r.start, r.end + 1), `${key} ${r.start}-${r.end}`);
  }
}

/** A multipart upload of `datas` encrypted as `sse` (SSE-C parts with key `c`), completed. */
export async function sealedUpload(
  be: Backend,
  b: BucketRecord,
  key: string,
  datas: Uint8Array[],
  sse: SseSpec,
  c?: CustomerKey,
) {
  const up = await be.createMultipartUpload(b, { key, content: {}, meta: {}, ownerId: OWNER, sse });
  const parts = [];
  for (const [i, d] of datas.entries()) {
    parts.push(
      await be.uploadPart(b, {
        key,
        uploadId: up.uploadId,
        partNumber: i + 1,
        body: bodyOf(d),
        contentLength: d.length,
        customer: c,
      }),
    );
  }
  const rec = await be.completeMultipartUpload(b, {
    key,
    uploadId: up.uploadId,
    parts: parts.map((p) => ({ n: p.n, etag: p.etag, checksums: {} })),
    minPartSize: 0,
  });
  return { rec, parts };
}

export const ENCRYPTION_CASES: ConformanceCase[] = [
  {
    name: "encryption: SSE-S3 objects read back whole and in ranges; sizes and ETags plaintext",
    async run({ be }) {
      const b = await bucket(be, "enc-s3");
      for (const size of SIZES) {
        const data = randomBytes(size);
        const rec = await put(be, b, `k${size}`, data, { sse: { mode: "AES256" } });
        assertEquals([rec.size, rec.etag, rec.enc?.mode], [size, putEtag(data), "AES256"]);
        await checkRoundTrip(be, b, `k${size}`, data);
      }
      const page = await be.listObjects(b, {
        prefix: "",
        delimiter: "",
        after: "",
        maxKeys: 1000,
      });
      assertEquals(
        page.objects.map((o) => o.size).sort((x, y) => x - y),
        [...SIZES].sort((x, y) => x - y),
      );
    },
  },
  {
    name: "encryption: body checks apply to the plaintext and a failed write stores nothing",
    async run({ be }) {
      const b = await bucket(be, "enc-checks");
      const data = randomBytes(70_000);
      const sse = { mode: "AES256" } as const;
      await put(be, b, "md5", data, { sse, contentMd5: md5Base64(data) });
      await expectCode(
        () => put(be, b, "bad-md5", data, { sse, contentMd5: md5Base64(data.subarray(1)) }),
        "BadDigest",
      );
      await expectCode(
        () => put(be, b, "short", data, { sse, contentLength: data.length + 1 }),
        "IncompleteBody",
      );
      await expectCode(
        () => put(be, b, "short-inline", data.subarray(0, 10), { sse, contentLength: 11 }),
        "IncompleteBody",
      );
      await expectCode(() => be.getObjectRecord(b, "bad-md5"), "NoSuchKey");
      await expectCode(() => be.getObjectRecord(b, "short"), "NoSuchKey");
      await expectCode(() => be.getObjectRecord(b, "short-inline"), "NoSuchKey");
      assertEquals(await be.bucketStats(b.id), { objects: 1, bytes: data.length });
    },
  },
  {
    name:
      "encryption: SSE-C needs its key on every read; missing InvalidRequest, other AccessDenied",
    async run({ be }) {
      const b = await bucket(be, "enc-c");
      const a = customer(1);
      for (const size of [0, 100, 20_000, 2 * SEG + 1]) {
        const data = randomBytes(size);
        const rec = await put(be, b, `c${size}`, data, { sse: a });
        assertEquals([rec.enc?.mode, rec.enc?.keyMd5], ["SSE-C", a.keyMd5]);
        assert(rec.etag !== putEtag(data), "an SSE-C ETag is not the content's MD5");
        await checkRoundTrip(be, b, `c${size}`, data, a);
        await expectCode(() => get(be, b, `c${size}`), "InvalidRequest", "no key");
        await expectCode(() => get(be, b, `c${size}`, { customer: customer(2) }), "AccessDenied");
        // HEAD opens no bytes and still checks the key.
        await expectCode(() => get(be, b, `c${size}`, { range: false }), "InvalidRequest");
        await expectCode(
          () => get(be, b, `c${size}`, { range: false, customer: customer(3) }),
          "AccessDenied",
        );
        // A copy source: the key given to readObject opens the bytes.
        const copied = await be.readObject(
          b,
          `c${size}`,
          null,
          async (_rec, open) => await readBytes(await open()),
          a,
        );
        assertEquals(copied, data);
      }
    },
  },
  {
    name: "encryption: SSE-KMS data keys come from the key service; key id and context kept",
    async run({ be }) {
      const b = await bucket(be, "enc-kms");
      const context = btoa(JSON.stringify({ purpose: "test" }));
      for (const size of [10, 50_000, SEG * 2]) {
        const data = randomBytes(size);
        const rec = await put(be, b, `m${size}`, data, {
          sse: { mode: "aws:kms", keyId: "default", context, bucketKey: true },
        });
        assertEquals(
          [rec.enc?.mode, rec.enc?.context, rec.enc?.bucketKey, rec.enc?.kek.startsWith("kms:")],
          ["aws:kms", context, true, true],
        );
        assert(rec.enc?.kmsKeyArn?.endsWith("key/default"), "the key's ARN is kept");
        assert(rec.etag !== putEtag(data), "an SSE-KMS ETag is not the content's MD5");
        await checkRoundTrip(be, b, `m${size}`, data);
      }
    },
  },
  {
    name: "encryption: multipart parts each under their own data key, ranges across parts",
    async run({ be }) {
      const b = await bucket(be, "enc-mp");
      const datas = [randomBytes(SEG + 100), randomBytes(70_000), randomBytes(5)];
      const { rec, parts } = await sealedUpload(be, b, "mp", datas, { mode: "AES256" });
      assertEquals(rec.etag, multipartEtag(datas));
      assertEquals(rec.size, datas.reduce((n, d) => n + d.length, 0));
      assertEquals(rec.enc?.mode, "AES256");
      assertEquals(parts.map((p) => p.etag), datas.map(putEtag));
      const refs = await be.objectParts(rec);
      assertEquals(new Set(refs.map((p) => String(p.dk))).size, 3, "a data key per part");
      const all = concat(datas);
      await checkRoundTrip(be, b, "mp", all);
      const edges = [SEG + 99, SEG + 100, SEG + 100 + 70_000 - 1, SEG + 100 + 70_000];
      for (const s of edges) {
        for (const e of edges) {
          if (e < s) continue;
          const got = (await get(be, b, "mp", { range: { start: s, end: e } })).bytes;
          assertEquals(got, all.subarray(s, e + 1));
        }
      }
    },
  },
  {
    name: "encryption: SSE-C multipart needs the upload's key on every part and read",
    async run({ be }) {
      const b = await bucket(be, "enc-mpc");
      const a = customer(5);
      const up = await be.createMultipartUpload(b, {
        key: "k",
        content: {},
        meta: {},
        ownerId: OWNER,
        sse: a,
      });
      const d = randomBytes(1000);
      const part = (c?: CustomerKey) =>
        be.uploadPart(b, {
          key: "k",
          uploadId: up.uploadId,
          partNumber: 1,
          body: bodyOf(d),
          contentLength: d.length,
          customer: c,
        });
      await expectCode(() => part(), "InvalidRequest", "no key");
      await expectCode(() => part(customer(6)), "InvalidRequest", "other key");
      const p = await part(a);
      await be.completeMultipartUpload(b, {
        key: "k",
        uploadId: up.uploadId,
        parts: [{ n: 1, etag: p.etag, checksums: {} }],
        minPartSize: 0,
      });
      await checkRoundTrip(be, b, "k", d, a);
      await expectCode(() => get(be, b, "k"), "InvalidRequest");
      await expectCode(() => get(be, b, "k", { customer: customer(6) }), "AccessDenied");
    },
  },
];
